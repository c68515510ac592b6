//! One Terraform working directory: a temp dir with the mirror's CLI config, initialised once, in which a
//! test runs any Terraform command and gets its output or its JSON.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

use crate::command::{self, TfOutput};
use crate::error::HarnessError;
use crate::json::{Plan, State};
use crate::mirror::{Mirror, PROVIDER_SOURCE};

/// File name of the root module config the harness writes.
pub const CONFIG_FILE: &str = "main.tf";
/// File name of the saved plan written by [`Workdir::plan_json`].
pub const PLAN_FILE: &str = "tfplan";

/// A Terraform working directory in its own temp dir (removed on drop unless kept).
#[derive(Debug)]
pub struct Workdir {
    dir: Option<TempDir>,
    path: PathBuf,
    mirror: Arc<Mirror>,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl Workdir {
    /// A fresh, empty working directory using the process-wide provider mirror. Not yet initialised: call
    /// [`Workdir::init`].
    pub fn new() -> Result<Self, HarnessError> {
        let mirror = Mirror::get()?;
        let dir = tempfile::Builder::new()
            .prefix("dbplatform-acc-")
            .tempdir()
            .map_err(|e| {
                HarnessError::io("creating a test working directory", std::env::temp_dir(), e)
            })?;
        Ok(Workdir {
            path: dir.path().to_path_buf(),
            dir: Some(dir),
            mirror,
            env: Vec::new(),
            timeout: command::command_timeout(),
        })
    }

    /// The directory path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The mirror (and so the Terraform and provider binaries) this directory uses.
    pub fn mirror(&self) -> &Mirror {
        &self.mirror
    }

    /// Sets an environment variable for every later command in this directory.
    pub fn set_env(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
    }

    /// Keeps the directory on disk after drop (for debugging a failure) and returns its path.
    pub fn keep(&mut self) -> PathBuf {
        if let Some(dir) = self.dir.take() {
            let _ = dir.keep();
        }
        self.path.clone()
    }

    /// `hcl` with the `required_providers` block for `dbplatform/dbplatform` in front, unless `hcl` already
    /// has a `required_providers` block.
    pub fn config_text(hcl: &str) -> String {
        if hcl.contains("required_providers") {
            hcl.to_string()
        } else {
            format!("{}\n{hcl}", required_providers_block())
        }
    }

    /// Writes `hcl` (see [`Workdir::config_text`]) as the root module's `main.tf`.
    pub fn write_config(&self, hcl: &str) -> Result<(), HarnessError> {
        self.write_file(CONFIG_FILE, &Self::config_text(hcl))
    }

    /// Writes a file into the directory (e.g. a second `.tf` file, a tfvars file, a policy file).
    pub fn write_file(&self, name: &str, content: &str) -> Result<(), HarnessError> {
        let path = self.path.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                HarnessError::io("creating a directory for a config file", parent, e)
            })?;
        }
        std::fs::write(&path, content)
            .map_err(|e| HarnessError::io("writing a config file", &path, e))
    }

    /// `terraform init`, offline from the mirror. Writes a `main.tf` holding only the `required_providers`
    /// block first when there is none, so later configs (even invalid ones) can be swapped in without
    /// initialising again.
    pub fn init(&self) -> Result<TfOutput, HarnessError> {
        if !self.path.join(CONFIG_FILE).exists() {
            self.write_file(CONFIG_FILE, &required_providers_block())?;
        }
        self.run_ok(&["init", "-input=false", "-no-color"])
    }

    /// Runs `terraform ARGS`, whatever its exit code.
    pub fn run(&self, args: &[&str]) -> Result<TfOutput, HarnessError> {
        self.run_env(args, &[])
    }

    /// Runs `terraform ARGS` with extra environment variables, whatever its exit code.
    pub fn run_env(
        &self,
        args: &[&str],
        extra_env: &[(String, String)],
    ) -> Result<TfOutput, HarnessError> {
        let mut env = self.mirror.env();
        env.extend(self.env.iter().cloned());
        env.extend(extra_env.iter().cloned());
        let mut shown = self.env.clone();
        shown.extend(extra_env.iter().cloned());
        let out = command::run(
            self.mirror.terraform(),
            args,
            &self.path,
            &env,
            &shown,
            self.timeout,
        )?;
        // Captured by the test runner and shown only for failing tests: the trail of what ran.
        eprintln!(
            "[acc] {} -> exit {:?} in {:.2}s",
            out.command,
            out.code,
            out.elapsed.as_secs_f64()
        );
        Ok(out)
    }

    /// Runs `terraform ARGS` and fails (showing the output) unless it exits 0.
    pub fn run_ok(&self, args: &[&str]) -> Result<TfOutput, HarnessError> {
        self.run_ok_env(args, &[])
    }

    /// [`Workdir::run_ok`] with extra environment variables.
    pub fn run_ok_env(
        &self,
        args: &[&str],
        extra_env: &[(String, String)],
    ) -> Result<TfOutput, HarnessError> {
        self.run_env(args, extra_env)?
            .ok_or_fail("terraform exited non-zero")
    }

    /// Runs `terraform ARGS` (which must print JSON, e.g. `show -json`) and parses stdout.
    #[doc(alias = "terraform_json")]
    pub fn json(&self, args: &[&str]) -> Result<Value, HarnessError> {
        self.json_env(args, &[])
    }

    /// [`Workdir::json`] with extra environment variables.
    pub fn json_env(
        &self,
        args: &[&str],
        extra_env: &[(String, String)],
    ) -> Result<Value, HarnessError> {
        let out = self.run_ok_env(args, extra_env)?;
        serde_json::from_str(&out.stdout).map_err(|source| HarnessError::Json {
            command: out.command,
            stdout: out.stdout,
            source,
        })
    }

    /// The current state, from `terraform show -json`.
    pub fn show_state(&self) -> Result<State, HarnessError> {
        self.show_state_env(&[])
    }

    /// [`Workdir::show_state`] with extra environment variables.
    pub fn show_state_env(&self, extra_env: &[(String, String)]) -> Result<State, HarnessError> {
        Ok(State::from_json(
            self.json_env(&["show", "-json", "-no-color"], extra_env)?,
        ))
    }

    /// Addresses of the resources with at least one instance in `terraform.tfstate`, read from the file without starting
    /// Terraform (cheap: no provider process); empty when there is no state file.
    pub fn state_file_addresses(&self) -> Result<Vec<String>, HarnessError> {
        let path = self.path.join("terraform.tfstate");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(HarnessError::io("reading the state file", &path, e)),
        };
        let raw: Value = serde_json::from_str(&text).map_err(|source| HarnessError::Json {
            command: format!("reading {}", path.display()),
            stdout: text.clone(),
            source,
        })?;
        Ok(raw
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            // A failed create leaves a resource entry with no instances: nothing exists for it.
            .filter(|r| {
                r.get("instances")
                    .and_then(Value::as_array)
                    .is_some_and(|i| !i.is_empty())
            })
            .map(|r| {
                let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
                let module = r
                    .get("module")
                    .and_then(Value::as_str)
                    .map(|m| format!("{m}."))
                    .unwrap_or_default();
                let mode = if field("mode") == "data" { "data." } else { "" };
                format!("{module}{mode}{}.{}", field("type"), field("name"))
            })
            .collect())
    }

    /// `terraform plan -out=tfplan` then `terraform show -json tfplan`: the plan JSON that CI hands to
    /// `dbpolicy check`. Fails (showing the output) when the plan fails.
    pub fn plan_json(&self) -> Result<Plan, HarnessError> {
        self.plan_json_env(&[])
    }

    /// [`Workdir::plan_json`] with extra environment variables.
    pub fn plan_json_env(&self, extra_env: &[(String, String)]) -> Result<Plan, HarnessError> {
        let out = self.plan_env(extra_env)?;
        if !out.success() {
            return Err(out.into_error("terraform plan failed"));
        }
        self.show_plan_env(extra_env)
    }

    /// `terraform plan -input=false -no-color -out=tfplan`, whatever its exit code.
    pub fn plan_env(&self, extra_env: &[(String, String)]) -> Result<TfOutput, HarnessError> {
        let out_flag = format!("-out={PLAN_FILE}");
        self.run_env(&["plan", "-input=false", "-no-color", &out_flag], extra_env)
    }

    /// `terraform show -json tfplan` of the last saved plan.
    pub fn show_plan_env(&self, extra_env: &[(String, String)]) -> Result<Plan, HarnessError> {
        Ok(Plan::from_json(self.json_env(
            &["show", "-json", "-no-color", PLAN_FILE],
            extra_env,
        )?))
    }

    /// Runs [`Workdir::plan_json`] and writes the plan JSON to `name` in this directory (the file CI hands to
    /// `dbpolicy check`); returns its path and the plan.
    pub fn write_plan_json(&self, name: &str) -> Result<(PathBuf, Plan), HarnessError> {
        let plan = self.plan_json()?;
        let path = self.path.join(name);
        std::fs::write(&path, plan.raw().to_string())
            .map_err(|e| HarnessError::io("writing the plan JSON", &path, e))?;
        Ok((path, plan))
    }

    /// Path of the saved plan file written by [`Workdir::plan_json`].
    pub fn plan_file(&self) -> PathBuf {
        self.path.join(PLAN_FILE)
    }

    /// `terraform destroy -auto-approve`; fails (showing the output) unless it exits 0. Tests that apply
    /// through a bare [`Workdir`] call this themselves ([`crate::TestCase`] always does).
    pub fn destroy(&self) -> Result<TfOutput, HarnessError> {
        self.run_ok(&["destroy", "-input=false", "-no-color", "-auto-approve"])
    }

    /// `terraform providers schema -json`.
    pub fn providers_schema(&self) -> Result<Value, HarnessError> {
        self.json(&["providers", "schema", "-json"])
    }
}

/// The `terraform { required_providers { ... } }` block for our provider.
pub fn required_providers_block() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    dbplatform = {{\n      source = \"{PROVIDER_SOURCE}\"\n    }}\n  }}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_text_prepends_required_providers_only_when_missing() {
        let with = Workdir::config_text("data \"dbplatform_tier\" \"t\" { name = \"tier-1\" }\n");
        assert!(
            with.starts_with("terraform {\n  required_providers {"),
            "{with}"
        );
        assert!(with.contains("source = \"dbplatform/dbplatform\""));
        assert!(with.ends_with("data \"dbplatform_tier\" \"t\" { name = \"tier-1\" }\n"));
        let own = "terraform {\n required_providers {\n dbplatform = { source = \"dbplatform/dbplatform\" }\n }\n}\n";
        assert_eq!(Workdir::config_text(own), own);
    }
}
