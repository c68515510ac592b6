//! Short-lived and write-only credentials on the local backend with Terraform 1.11 (ephemeral resources and
//! write-only arguments): a `local-exec` provisioner connects with an `ephemeral "dbplatform_credentials"`
//! login; neither its password nor a role's `password_wo` reaches the state file or the saved plan; the login is
//! gone after the run. Runs Terraform 1.11.4 from `/usr/local/bin/terraform` unless DBPLATFORM_TERRAFORM_BIN names
//! another (this test binary only: the harness's Terraform is chosen once per process).

use std::path::{Path, PathBuf};
use std::process::Command;

use acceptance_tests::local::{
    local_provider_block, pg_tool, reachable_data_dir, StopServersUnder,
};
use acceptance_tests::Workdir;
use serde_json::Value;

const TERRAFORM_111: &str = "/usr/local/bin/terraform";
const STATIC_PASSWORD: &str = "Static-Write-Only-Pw-4711";

fn use_terraform_111() {
    if std::env::var_os("DBPLATFORM_TERRAFORM_BIN").is_none() {
        assert!(
            Path::new(TERRAFORM_111).is_file(),
            "this test needs Terraform 1.11+ (ephemeral resources, write-only arguments) at {TERRAFORM_111}, or DBPLATFORM_TERRAFORM_BIN naming one"
        );
        std::env::set_var("DBPLATFORM_TERRAFORM_BIN", TERRAFORM_111);
    }
}

fn config(data_dir: &Path, out: &Path) -> String {
    format!(
        r#"
{provider}
# Ephemeral (Terraform 1.10+): given again at apply from TF_VAR_static_password, never saved in the plan.
variable "static_password" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "dbplatform_database" "db" {{
  name = "acc-creds"
  tier = "tier-3"
  tags = {{ owner = "acceptance" }}
}}

resource "dbplatform_role" "ro" {{
  database_id = dbplatform_database.db.id
  name        = "acc_creds_ro"
  template    = "readonly"
}}

resource "dbplatform_role" "static" {{
  database_id         = dbplatform_database.db.id
  name                = "acc_creds_static"
  template            = "readonly"
  login               = true
  password_wo         = var.static_password
  password_wo_version = 1
}}

ephemeral "dbplatform_credentials" "login" {{
  role_id = dbplatform_role.ro.id
  ttl     = "10m"
}}

resource "terraform_data" "use" {{
  triggers_replace = [dbplatform_role.ro.id]
  provisioner "local-exec" {{
    command = "printf %s \"$PGPASSWORD\" > {out}/pw.txt && psql -X -At -v ON_ERROR_STOP=1 -c \"SELECT current_user || ' ' || pg_has_role(current_user, 'acc_creds_ro', 'MEMBER')\" \"$URI\" > {out}/who.txt"
    environment = {{
      PGPASSWORD = ephemeral.dbplatform_credentials.login.password
      URI        = "postgresql://${{ephemeral.dbplatform_credentials.login.username}}@127.0.0.1:${{dbplatform_database.db.port}}/acc_creds?sslmode=require"
    }}
  }}
}}
"#,
        provider = local_provider_block(data_dir, false),
        out = out.display()
    )
}

fn read(p: PathBuf) -> String {
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// SQL as the provider's admin role over the database's socket (peer authentication by OS user).
fn admin(data_dir: &Path, sql: &str) -> String {
    let db_dir = data_dir.join("databases").join("acc-creds");
    let meta: Value =
        serde_json::from_str(&read(db_dir.join("metadata.json"))).expect("metadata.json");
    let out = Command::new(pg_tool("psql"))
        .args(["-h", meta["socket_dir"].as_str().unwrap_or_default()])
        .args([
            "-p",
            &meta["port"].to_string(),
            "-U",
            "dbplatform_admin",
            "-d",
            "acc_creds",
        ])
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "admin psql {sql:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn temporary_logins(data_dir: &Path) -> String {
    admin(
        data_dir,
        "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'acc\\_creds\\_ro\\_tmp\\_%'",
    )
}

/// Everything in a saved plan file (a zip): every entry, decompressed.
fn plan_contents(path: &Path) -> String {
    let out = Command::new("unzip")
        .arg("-p")
        .arg(path)
        .output()
        .expect("run unzip");
    assert!(out.status.success(), "unzip -p {}", path.display());
    String::from_utf8_lossy(&out.stdout).to_string()
}

struct Destroy<'a>(&'a Workdir);

impl Drop for Destroy<'_> {
    fn drop(&mut self) {
        match self.0.destroy() {
            Ok(out) if !out.success() => eprintln!("destroy failed:\n{}", out.all_normalized()),
            Err(e) => eprintln!("destroy failed: {e}"),
            Ok(_) => {}
        }
    }
}

#[test]
fn ephemeral_and_write_only_credentials_stay_out_of_state_and_plan() {
    use_terraform_111();
    let (_tmp, dd) = reachable_data_dir();
    let _stop = StopServersUnder(dd.clone());
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path();
    let mut wd = Workdir::new().expect("workdir");
    wd.set_env("TF_VAR_static_password", STATIC_PASSWORD);
    wd.init().expect("init");
    let _destroy = Destroy(&wd);
    wd.write_config(&config(&dd, out)).expect("config");

    // A saved plan, then its apply: the provisioner connects with the ephemeral login.
    wd.run_ok(&["plan", "-input=false", "-no-color", "-out=first.bin"])
        .expect("plan");
    wd.run_ok(&["apply", "-input=false", "-no-color", "first.bin"])
        .expect("apply");
    let password = read(out.join("pw.txt"));
    let who = read(out.join("who.txt"));
    assert_eq!(password.len(), 32, "the provisioner got a password");
    let (user, member) = who
        .trim()
        .split_once(' ')
        .expect("who.txt: user and membership");
    assert!(user.starts_with("acc_creds_ro_tmp_"), "connected as {user}");
    assert_eq!(member, "true", "{user} is a member of the readonly role");

    let state_file = read(wd.path().join("terraform.tfstate"));
    assert!(
        !state_file.contains(&password),
        "the ephemeral password is in the state file"
    );
    assert!(
        !state_file.contains(STATIC_PASSWORD),
        "password_wo is in the state file"
    );
    let state: Value = serde_json::from_str(&state_file).expect("state JSON");
    let types: Vec<&str> = state["resources"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["type"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        !types.contains(&"dbplatform_credentials"),
        "the ephemeral resource is in the state: {types:?}"
    );
    let first_plan = plan_contents(&wd.path().join("first.bin"));
    assert!(
        !first_plan.contains(STATIC_PASSWORD),
        "password_wo is in the saved plan"
    );
    assert_eq!(
        temporary_logins(&dd),
        "0",
        "the login {user} outlived the run"
    );

    // The static login made with the write-only password works.
    let port = admin(&dd, "SHOW port");
    let ok = Command::new(pg_tool("psql"))
        .env("PGPASSWORD", STATIC_PASSWORD)
        .arg(format!(
            "postgresql://acc_creds_static@127.0.0.1:{port}/acc_creds?sslmode=require"
        ))
        .args(["-X", "-At", "-c", "SELECT 1"])
        .output()
        .expect("psql");
    assert!(
        ok.status.success(),
        "login with password_wo: {}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // A plan with the role known opens (and closes) a login while planning; replacing terraform_data runs the
    // provisioner again at apply with a fresh login.
    wd.run_ok(&[
        "plan",
        "-input=false",
        "-no-color",
        "-replace=terraform_data.use",
        "-out=second.bin",
    ])
    .expect("second plan");
    assert_eq!(
        temporary_logins(&dd),
        "0",
        "the plan's login outlived the plan"
    );
    let shown = wd
        .json(&["show", "-json", "second.bin"])
        .expect("show plan")
        .to_string();
    assert!(
        !shown.contains(STATIC_PASSWORD),
        "password_wo in the plan JSON"
    );
    assert!(
        !shown.contains("\"password\":\""),
        "a password value in the plan JSON"
    );
    let second_plan = plan_contents(&wd.path().join("second.bin"));
    assert!(!second_plan.contains(STATIC_PASSWORD) && !second_plan.contains(&password));
    wd.run_ok(&["apply", "-input=false", "-no-color", "second.bin"])
        .expect("second apply");
    let password2 = read(out.join("pw.txt"));
    assert_ne!(password2, password, "every run gets its own login");
    let state_file = read(wd.path().join("terraform.tfstate"));
    assert!(!state_file.contains(&password2) && !state_file.contains(STATIC_PASSWORD));
    assert_eq!(
        temporary_logins(&dd),
        "0",
        "the second login outlived the run"
    );
    let shown_state = wd.json(&["show", "-json"]).expect("show state").to_string();
    assert!(!shown_state.contains(&password2) && !shown_state.contains(STATIC_PASSWORD));
}
