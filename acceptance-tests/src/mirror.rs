//! The per-process provider filesystem mirror and Terraform CLI config, so `terraform init` installs our
//! provider with no network and no registry, exactly as a user's `make install` mirror does.
//!
//! Layout (created once per test process under `target/acceptance/mirror-<pid>/`):
//! `registry.terraform.io/dbplatform/dbplatform/<version>/linux_amd64/terraform-provider-dbplatform_v<version>`
//! and `terraformrc` with a `provider_installation` block that takes `dbplatform/dbplatform` only from that
//! mirror.
//!
//! The mirror holds the built binary with its DWARF debug info stripped (`objcopy --strip-debug`, symbols
//! and panic locations stay): Terraform hashes the whole provider package on every command to check the
//! lock file, and the debug build is ~3x larger with line tables — stripping once per process saves about
//! 0.3-0.6 s per Terraform command on a loaded 2-core machine. Set `DBPLATFORM_ACC_KEEP_DEBUGINFO=1` to
//! use the binary as built (hard link, or copy across filesystems).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::HarnessError;
use crate::paths::{provider_binary, target_dir, terraform_binary};

/// The provider's source address as written in `required_providers`.
pub const PROVIDER_SOURCE: &str = "dbplatform/dbplatform";
/// The provider version the mirror offers: the workspace version, which the provider crate also uses.
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A provider mirror plus the CLI config that points Terraform at it; shared by every test in a process.
#[derive(Debug)]
pub struct Mirror {
    root: PathBuf,
    cli_config: PathBuf,
    terraform: PathBuf,
    provider: PathBuf,
}

static MIRROR: Mutex<Option<Arc<Mirror>>> = Mutex::new(None);

impl Mirror {
    /// The process-wide mirror, laid out on first use. Fails with "run `make build` first" / "run `make tools`
    /// first" when the provider or Terraform is missing.
    pub fn get() -> Result<Arc<Mirror>, HarnessError> {
        let mut slot = MIRROR
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(m) = slot.as_ref() {
            return Ok(Arc::clone(m));
        }
        let base = target_dir().join("acceptance");
        remove_stale_mirrors(&base);
        let m = Arc::new(Mirror::create(
            &base.join(format!("mirror-{}", std::process::id())),
        )?);
        *slot = Some(Arc::clone(&m));
        Ok(m)
    }

    /// Lays out a mirror in `root` (replacing what is there) for the built provider.
    pub fn create(root: &Path) -> Result<Mirror, HarnessError> {
        let terraform = terraform_binary()?;
        let provider = provider_binary()?;
        if root.exists() {
            std::fs::remove_dir_all(root)
                .map_err(|e| HarnessError::io("removing an old provider mirror", root, e))?;
        }
        let platform_dir = root
            .join("registry.terraform.io")
            .join(PROVIDER_SOURCE)
            .join(PROVIDER_VERSION)
            .join("linux_amd64");
        std::fs::create_dir_all(&platform_dir)
            .map_err(|e| HarnessError::io("creating the provider mirror", &platform_dir, e))?;
        let dest = platform_dir.join(format!("terraform-provider-dbplatform_v{PROVIDER_VERSION}"));
        place_provider(&provider, &dest)?;
        let cli_config = root.join("terraformrc");
        std::fs::write(&cli_config, cli_config_text(root))
            .map_err(|e| HarnessError::io("writing the Terraform CLI config", &cli_config, e))?;
        Ok(Mirror {
            root: root.to_path_buf(),
            cli_config,
            terraform,
            provider: dest,
        })
    }

    /// The mirror directory (the `filesystem_mirror` path).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The CLI config file every Terraform run gets as `TF_CLI_CONFIG_FILE`.
    pub fn cli_config(&self) -> &Path {
        &self.cli_config
    }

    /// The Terraform CLI to run.
    pub fn terraform(&self) -> &Path {
        &self.terraform
    }

    /// The provider binary inside the mirror (what Terraform will start).
    pub fn provider(&self) -> &Path {
        &self.provider
    }

    /// The environment every Terraform run gets: the CLI config, no update checks, automation mode, no prompts.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                self.cli_config.display().to_string(),
            ),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
            ("TF_INPUT".to_string(), "0".to_string()),
        ]
    }
}

/// Puts the provider at `dest`: debug info stripped when `objcopy` is available (see the module doc),
/// else a hard link, else a copy.
fn place_provider(provider: &Path, dest: &Path) -> Result<(), HarnessError> {
    if std::env::var_os("DBPLATFORM_ACC_KEEP_DEBUGINFO").is_none() {
        let stripped = std::process::Command::new("objcopy")
            .arg("--strip-debug")
            .arg(provider)
            .arg(dest)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if stripped {
            return Ok(());
        }
        let _ = std::fs::remove_file(dest);
    }
    if std::fs::hard_link(provider, dest).is_err() {
        std::fs::copy(provider, dest)
            .map_err(|e| HarnessError::io("copying the provider into the mirror", dest, e))?;
    }
    Ok(())
}

/// The `provider_installation` block: dbplatform only from the mirror, everything else direct (and so,
/// offline, unavailable — the tests use no other provider).
fn cli_config_text(mirror: &Path) -> String {
    let path = serde_json::Value::String(mirror.display().to_string()).to_string();
    format!(
        "disable_checkpoint = true\n\
         provider_installation {{\n\
         \x20 filesystem_mirror {{\n\
         \x20   path    = {path}\n\
         \x20   include = [\"{PROVIDER_SOURCE}\"]\n\
         \x20 }}\n\
         \x20 direct {{\n\
         \x20   exclude = [\"{PROVIDER_SOURCE}\"]\n\
         \x20 }}\n\
         }}\n"
    )
}

/// Removes `mirror-<pid>` directories of test processes that no longer run (statics are never dropped, so
/// each process leaves its mirror behind; the next run tidies up).
fn remove_stale_mirrors(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("mirror-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_config_takes_only_dbplatform_from_the_mirror() {
        let text = cli_config_text(Path::new("/m/x"));
        assert!(text.contains("path    = \"/m/x\""), "{text}");
        assert!(text.contains("include = [\"dbplatform/dbplatform\"]"));
        assert!(text.contains("exclude = [\"dbplatform/dbplatform\"]"));
    }
}
