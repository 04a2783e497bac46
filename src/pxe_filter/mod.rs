//! PXE filtering (spec §8): only nodes under introspection (and, with
//! discovery, unknown machines) may PXE-boot the introspection ramdisk.

use inspector_core::conf::{Config, PxeDriver};

use crate::domain::Inspector;

pub enum PxeFilter {
    /// No filtering at all.
    Noop,
}

impl PxeFilter {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        match config.pxe_filter.driver {
            PxeDriver::Noop => Ok(PxeFilter::Noop),
            PxeDriver::Dnsmasq | PxeDriver::Iptables => {
                anyhow::bail!(
                    "[pxe_filter] driver = dnsmasq and iptables are not supported yet; use noop"
                )
            }
        }
    }

    /// Whether the driver must be re-synced on a timer.
    pub fn needs_periodic_sync(&self) -> bool {
        !matches!(self, PxeFilter::Noop)
    }

    pub async fn sync(&self, _inspector: &Inspector) -> Result<(), String> {
        match self {
            PxeFilter::Noop => Ok(()),
        }
    }
}
