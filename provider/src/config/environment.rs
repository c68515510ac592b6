//! What the provider reads from its process environment, in one place: default directories, the working
//! directory, overrides given by CI, AWS region and audit log fallbacks. Everything else takes a [`ConfigEnv`],
//! so tests do not depend on the machine.

use std::path::{Path, PathBuf};

use crate::backend::local::pg::PgEnv;

/// Environment variable with overrides: `RULE_ID:by:reason` entries separated by `;` (the reason may contain `:`).
pub const ENV_OVERRIDES: &str = "DBPLATFORM_OVERRIDES";

/// Where the provider finds its defaults: environment variables and the working directory. Passed in so tests
/// do not depend on the machine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigEnv {
    pub xdg_data_home: Option<String>,
    pub home: Option<String>,
    /// Relative paths in the configuration are resolved against this directory (Terraform's working directory).
    pub cwd: PathBuf,
    /// [`ENV_OVERRIDES`]: soft-mandatory overrides given outside the configuration (e.g. by a CI job).
    pub overrides: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION` (non-empty): the region when `aws.region` is not configured.
    pub aws_region: Option<String>,
    /// `DBPOLICY_AUDIT_LOG`: the audit log when `policy.audit_log` is not configured.
    pub audit_log: Option<String>,
    /// `TF_WORKSPACE`: the Terraform workspace, recorded with each decision.
    pub terraform_workspace: Option<String>,
    /// `DBPLATFORM_PG_BINDIR`, `PATH` and `DBPLATFORM_PG_OS_USER`: where the local backend finds PostgreSQL.
    pub pg: PgEnv,
}

impl ConfigEnv {
    /// The running process's environment.
    pub fn from_process() -> Self {
        Self {
            xdg_data_home: std::env::var("XDG_DATA_HOME").ok(),
            home: std::env::var("HOME").ok(),
            cwd: std::env::current_dir().unwrap_or_default(),
            overrides: std::env::var(ENV_OVERRIDES).ok(),
            aws_region: ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .into_iter()
                .find_map(|name| std::env::var(name).ok().filter(|r| !r.is_empty())),
            audit_log: std::env::var(policy::audit::config::ENV_LOG).ok(),
            terraform_workspace: std::env::var("TF_WORKSPACE").ok(),
            pg: PgEnv::from_process(),
        }
    }

    /// `$XDG_DATA_HOME/dbplatform`, else `~/.local/share/dbplatform` (the XDG base directory default).
    pub fn default_data_dir(&self) -> Option<PathBuf> {
        localpg::data_dir::default_data_dir(self.xdg_data_home.as_deref(), self.home.as_deref())
    }

    /// `p` resolved against Terraform's working directory when relative.
    pub(crate) fn absolute(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }
}
