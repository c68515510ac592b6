//! Acceptance harness: drives the real Terraform CLI (1.0.3, from `.tools/bin`) against the built
//! `terraform-provider-dbplatform`, the way `terraform-plugin-testing` does for Go providers.
//!
//! Why a harness: every acceptance test needs the same plumbing — a filesystem mirror so `terraform init`
//! works offline, a hermetic environment, one working directory per test case (tests run in parallel), and
//! failure messages that show the command, its exit code and its output. Tests then only state a config and
//! what a user should see.
//!
//! Two levels of API:
//! - [`TestCase`] / [`Step`]: declarative steps (`plan`, `apply`, `validate`, import-verify) with
//!   [`ExpectPlan`] and [`Check`] expectations, and a destroy + empty-state check at the end of every case.
//! - [`Workdir`]: one initialised Terraform working directory to run arbitrary commands in
//!   ([`Workdir::run`], [`Workdir::json`], [`Workdir::plan_json`], [`Workdir::show_state`],
//!   [`Workdir::providers_schema`]) — for tests that need the raw CLI (debug logs, reattach, `dbpolicy check`
//!   on a plan JSON).
//!
//! Nothing here builds the provider: `make build` does that once before the tests run.

pub mod backup_replication_stub;
pub mod case;
pub mod command;
pub mod error;
pub mod fault_proxy;
pub mod faults;
pub mod json;
pub mod local;
pub mod mirror;
pub mod moto;
pub mod paths;
pub mod process;
pub mod workdir;

pub use case::{ChangeCounts, Check, ExpectPlan, ImportVerify, Step, TestCase};
pub use command::{normalize_diagnostics, TfOutput};
pub use error::HarnessError;
pub use json::{Plan, State};
pub use mirror::{Mirror, PROVIDER_SOURCE};
pub use moto::{moto_port, venv_python};
pub use paths::{
    dbpolicy_binary, provider_binary, repo_root, target_dir, terraform_binary, terraform_version,
};
pub use process::{free_port, wait_for_port, ChildGuard};
pub use workdir::Workdir;
