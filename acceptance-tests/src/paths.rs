//! Where the repository, the built provider and the Terraform CLI are, with errors that say how to fix a
//! missing one (`make build`, `make tools`).

use std::path::{Path, PathBuf};

use crate::error::HarnessError;

/// Environment variable to run the suite against another provider build (e.g. a release build for benches).
pub const PROVIDER_BIN_ENV: &str = "DBPLATFORM_PROVIDER_BIN";
/// Environment variable to use another Terraform binary than `.tools/bin/terraform`.
pub const TERRAFORM_BIN_ENV: &str = "DBPLATFORM_TERRAFORM_BIN";

/// The workspace root (the directory holding `GNUmakefile`): the parent of this crate's manifest directory
/// as `cargo test` reports it at run time, else as it was at compile time. (Run time first: a test binary in
/// a shared target directory may have been compiled from another checkout.)
pub fn repo_root() -> PathBuf {
    let runtime = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .and_then(|m| m.parent().map(Path::to_path_buf))
        .filter(|root| root.join("GNUmakefile").is_file());
    runtime.unwrap_or_else(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        manifest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| manifest.to_path_buf())
    })
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` when set, else `<repo>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            }
        }
        _ => repo_root().join("target"),
    }
}

/// The provider binary the Makefile builds (`target/debug/terraform-provider-dbplatform`), or
/// `$DBPLATFORM_PROVIDER_BIN`. Missing means `make build` has not run.
pub fn provider_binary() -> Result<PathBuf, HarnessError> {
    let path = match std::env::var_os(PROVIDER_BIN_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => target_dir()
            .join("debug")
            .join("terraform-provider-dbplatform"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::ProviderMissing { path })
    }
}

/// The Terraform 1.0.3 CLI installed by `scripts/install-tools.sh` (`.tools/bin/terraform`), or
/// `$DBPLATFORM_TERRAFORM_BIN`. Missing means `make tools` has not run.
pub fn terraform_binary() -> Result<PathBuf, HarnessError> {
    let path = match std::env::var_os(TERRAFORM_BIN_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join(".tools").join("bin").join("terraform"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(HarnessError::TerraformMissing { path })
    }
}

/// The version of the Terraform CLI the tests run (`terraform version -json`), e.g. `(1, 0, 3)`: what the
/// provider sees and records, and what decides the few expectations that differ between 1.0 and current CLIs,
/// whichever binary `DBPLATFORM_TERRAFORM_BIN` picked.
pub fn terraform_version() -> Result<(u32, u32, u32), HarnessError> {
    let bin = terraform_binary()?;
    let out = std::process::Command::new(&bin)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .map_err(|source| HarnessError::Io {
            what: "running terraform version -json".into(),
            path: bin.clone(),
            source,
        })?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let text = v["terraform_version"].as_str().unwrap_or_default();
    let mut parts = text.split('.').map(|p| p.parse::<u32>());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(a)), Some(Ok(b)), Some(Ok(c))) => Ok((a, b, c)),
        _ => Err(HarnessError::Io {
            what: format!(
                "`terraform version -json` printed no version ({})",
                String::from_utf8_lossy(&out.stdout).trim()
            ),
            path: bin,
            source: std::io::Error::other("unexpected output"),
        }),
    }
}

/// The dev build of `dbpolicy` that acceptance tests hand plans and audit logs to, as CI does; panics naming the
/// command that builds it when it is missing (tests cannot go on without it).
pub fn dbpolicy_binary() -> PathBuf {
    let p = target_dir().join("debug/dbpolicy");
    assert!(
        p.is_file(),
        "{} is missing: run `make build` (or cargo build -p dbplatform-policy --bin dbpolicy) first",
        p.display()
    );
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_root_holds_the_makefile_and_workspace_manifest() {
        let root = repo_root();
        assert!(root.join("GNUmakefile").is_file(), "{}", root.display());
        assert!(root.join("acceptance-tests").is_dir());
    }

    #[test]
    fn missing_binaries_name_the_make_target_that_fixes_them() {
        let e = HarnessError::ProviderMissing {
            path: PathBuf::from("/x/terraform-provider-dbplatform"),
        };
        assert_eq!(
            e.to_string(),
            "provider binary /x/terraform-provider-dbplatform not found: run `make build` first"
        );
        let e = HarnessError::TerraformMissing {
            path: PathBuf::from("/x/terraform"),
        };
        assert_eq!(
            e.to_string(),
            "terraform CLI /x/terraform not found: run `make tools` first"
        );
    }
}
