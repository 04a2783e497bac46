//! The iptables driver (upstream-behaviour §pxe-iptables): a chain that DHCP traffic on
//! `dnsmasq_interface` jumps to. The rules come from the core crate; this
//! module runs them through the command runner and remembers what the chain
//! holds, so that a sync with nothing new runs no command at all.

use std::sync::Arc;

use inspector_core::conf::Iptables;
use inspector_core::pxe::iptables::{self as plan, Change, Layout, Op, Rules};

use super::error::PxeFilterError;
use super::runner::{CommandError, CommandRunner};

pub struct IptablesFilter {
    layout: Layout,
    runner: Arc<CommandRunner>,
    /// `-w` (wait for the xtables lock) for iptables / iptables-restore.
    wait: bool,
    restore_wait: bool,
    /// What the chain holds; `None` when unknown (before the first sync,
    /// after a failure), which forces a rebuild.
    applied: Option<Rules>,
}

impl IptablesFilter {
    pub fn new(conf: &Iptables, runner: Arc<CommandRunner>) -> Result<Self, PxeFilterError> {
        Ok(Self {
            layout: Layout::new(conf).map_err(PxeFilterError::Config)?,
            runner,
            wait: false,
            restore_wait: false,
            applied: None,
        })
    }

    /// Checks for `-w`, removes what a previous run left, and creates the
    /// chain (which fails without the privileges iptables needs).
    pub async fn init(&mut self) -> Result<(), CommandError> {
        let program = self.layout.program().to_string();
        self.wait = self.probe_wait(&program).await;
        if !self.wait {
            tracing::warn!(
                "{program} does not support -w, please update it to at least version 1.4.21"
            );
        }
        let restore = self.layout.restore_program().to_string();
        self.restore_wait = self.probe_wait(&restore).await;
        self.applied = None;
        self.run_ops(&self.layout.init_ops()).await
    }

    async fn probe_wait(&self, program: &str) -> bool {
        let probe = [program.to_string(), "-w".into(), "-h".into()];
        self.runner.run(&probe).await.is_ok()
    }

    /// Makes the chain hold `rules`; returns whether anything changed.
    pub async fn apply(&mut self, rules: Rules) -> Result<bool, CommandError> {
        match plan::change(self.applied.as_ref(), &rules) {
            Change::Nothing => return Ok(false),
            Change::Edit { remove, add } => {
                let applied = self.applied.take();
                let op = applied
                    .as_ref()
                    .and_then(|a| self.layout.edit_op(a, &remove, &add));
                if let Some(op) = op {
                    match self.run_ops(&[op]).await {
                        Ok(()) => {
                            tracing::info!(
                                chain = self.layout.chain(),
                                removed = remove.len(),
                                added = add.len(),
                                "edited the PXE filter chain"
                            );
                            self.applied = Some(rules);
                            return Ok(true);
                        }
                        // The chain is not what we thought: build it anew.
                        Err(e) => {
                            tracing::warn!(error = %e, "editing the PXE filter chain failed; rebuilding it")
                        }
                    }
                }
            }
            Change::Rebuild => {}
        }
        // Cleared first, so that a failure forces a rebuild next time.
        self.applied = None;
        self.run_ops(&self.layout.rebuild_ops(&rules)).await?;
        tracing::info!(chain = self.layout.chain(), rules = %describe(&rules), "rebuilt the PXE filter chain");
        self.applied = Some(rules);
        Ok(true)
    }

    /// Removes both chains; failures are logged.
    pub async fn tear_down(&mut self) {
        self.applied = None;
        for op in self.layout.tear_down_ops() {
            if let Err(e) = self.run_op(&op).await {
                tracing::debug!(error = %e, "PXE filter clean-up step failed (nothing to remove?)");
            }
        }
    }

    async fn run_ops(&self, ops: &[Op]) -> Result<(), CommandError> {
        for op in ops {
            match self.run_op(op).await {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        op,
                        Op::Run {
                            ignore_failure: true,
                            ..
                        }
                    ) =>
                {
                    tracing::debug!(error = %e, "ignoring a failed iptables command")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn run_op(&self, op: &Op) -> Result<(), CommandError> {
        match op {
            Op::Run { args, .. } => {
                let mut argv = vec![self.layout.program().to_string()];
                if self.wait {
                    argv.push("-w".into());
                }
                argv.extend(args.iter().cloned());
                self.runner.run(&argv).await
            }
            Op::Restore { input } => {
                let mut argv = vec![self.layout.restore_program().to_string()];
                if self.restore_wait {
                    argv.push("-w".into());
                }
                argv.push("--noflush".into());
                self.runner.run_with_input(&argv, input).await
            }
        }
    }
}

fn describe(rules: &Rules) -> String {
    match rules {
        Rules::RejectAll => "reject all DHCP".into(),
        Rules::Drop(macs) => format!("drop {} MACs, accept others", macs.len()),
        Rules::Accept(macs) => format!("accept {} MACs, drop others", macs.len()),
    }
}
