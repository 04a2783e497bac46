//! Ramdisk logs (upstream-behaviour §ramdisk-logs): the base64 tarball the
//! ramdisk sends is kept in `ramdisk_logs_dir` when processing fails, or
//! always if configured.

use base64::Engine;
use inspector_core::hooks::{Data, lookup_attributes};
use serde_json::Value;

use super::processing::Processing;

/// The PXE MAC the ramdisk booted from, in `aa:bb:..` form.
fn pxe_mac(data: &Data) -> Option<String> {
    let raw = data.get("boot_interface")?.as_str()?;
    // PXELinux names it "01-aa-bb-cc-dd-ee-ff"; the colon form is kept as sent.
    match raw.split_once('-') {
        Some((_, rest)) => Some(rest.replace('-', ":").to_lowercase()),
        None => Some(raw.to_string()),
    }
}

impl Processing {
    pub(crate) async fn store_ramdisk_logs(&self, data: &Data, uuid: Option<&str>) {
        let Some(dir) = self.config.processing.ramdisk_logs_dir.clone() else {
            return;
        };
        let Some(logs) = data
            .get("logs")
            .and_then(Value::as_str)
            .filter(|l| !l.is_empty())
        else {
            tracing::warn!(
                node = uuid.unwrap_or("unknown"),
                "no logs were passed by the ramdisk"
            );
            return;
        };
        let cleaned: String = logs.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(node = uuid.unwrap_or("unknown"), error = %e, "the ramdisk logs are not valid base64; not stored");
                return;
            }
        };
        let mac = pxe_mac(data).map(|m| m.replace(':', ""));
        let bmc = lookup_attributes(data)
            .bmc_addresses
            .into_iter()
            .find(|a| !a.contains(':'));
        let name = match inspector_core::hooks::ramdisk_logs_filename(
            &self.config.processing.ramdisk_logs_filename_format,
            uuid,
            mac.as_deref(),
            bmc.as_deref(),
            self.lifecycle.now(),
        ) {
            Ok(name) => name,
            Err(e) => {
                tracing::warn!(node = uuid.unwrap_or("unknown"), error = %e, "cannot name the ramdisk logs file; not stored");
                return;
            }
        };
        let path = std::path::Path::new(&dir).join(&name);
        let result = async {
            tokio::fs::create_dir_all(&dir).await?;
            tokio::fs::write(&path, &bytes).await
        }
        .await;
        match result {
            Ok(()) => {
                tracing::info!(node = uuid.unwrap_or("unknown"), path = %path.display(), "stored the ramdisk logs")
            }
            Err(e) => {
                tracing::error!(node = uuid.unwrap_or("unknown"), path = %path.display(), error = %e, "cannot store the ramdisk logs")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pxe_mac_spellings() {
        let data = |v: Value| json!({"boot_interface": v}).as_object().unwrap().clone();
        assert_eq!(
            pxe_mac(&data(json!("01-52-54-00-AA-00-01"))).as_deref(),
            Some("52:54:00:aa:00:01")
        );
        assert_eq!(
            pxe_mac(&data(json!("52:54:00:aa:00:01"))).as_deref(),
            Some("52:54:00:aa:00:01")
        );
        assert_eq!(pxe_mac(&data(json!(5))), None);
    }
}
