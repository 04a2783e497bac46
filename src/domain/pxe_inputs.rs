//! What the PXE filter reads for a sync: the nodes under introspection from
//! the node cache and every port from Ironic (background budget).

use super::lifecycle::Lifecycle;
use crate::pxe_filter::{InputFuture, IronicPort, PortsUnavailable, SyncInputs};

pub(super) struct PxeInputs<'a>(pub(super) &'a Lifecycle);

impl SyncInputs for PxeInputs<'_> {
    fn any_active(&self) -> InputFuture<'_, anyhow::Result<bool>> {
        Box::pin(async move { Ok(self.0.store().any_active().await?) })
    }

    fn active_macs(&self) -> InputFuture<'_, anyhow::Result<Vec<String>>> {
        Box::pin(async move { Ok(self.0.store().active_macs().await?) })
    }

    fn ironic_ports(&self) -> InputFuture<'_, Result<Vec<IronicPort>, PortsUnavailable>> {
        Box::pin(async move {
            let ports = self
                .0
                .ironic()
                .all_ports()
                .await
                .map_err(|e| PortsUnavailable(Box::new(e)))?;
            Ok(ports
                .iter()
                .map(|p| IronicPort {
                    address: p.address().to_string(),
                    client_id: p
                        .extra()
                        .and_then(|e| e.get("client-id"))
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                })
                .collect())
        })
    }
}
