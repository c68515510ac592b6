//! The harness's import-verify step and final destroy against a real resource: a tier-3 database on the
//! local PostgreSQL backend is applied, imported into a fresh state and compared attribute by attribute,
//! then destroyed, and the destroy check confirms its server is gone.

use acceptance_tests::{Check, ExpectPlan, ImportVerify, Step, TestCase};

fn config(data_dir: &str) -> String {
    format!(
        r#"
provider "dbplatform" {{
  backend = "local"
  local {{
    data_dir = "{data_dir}"
  }}
}}

resource "dbplatform_database" "db" {{
  name = "accimport"
  tier = "tier-3"
  tags = {{
    owner               = "acceptance"
    cost_center         = "cc-0000"
    data_classification = "internal"
    environment         = "dev"
  }}
}}
"#
    )
}

#[test]
fn a_local_database_imports_to_the_same_state_and_is_destroyed() {
    let data = tempfile::Builder::new()
        .prefix("dbplatform-acc-data-")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir for the local backend: {e}"));
    let data_dir = data.path().display().to_string();
    let pgdata = data.path().join("databases/accimport/pgdata");
    let cfg = config(&data_dir);
    TestCase::new()
        .step(
            Step::apply(cfg.clone())
                .expect(ExpectPlan::creates(1))
                .check(Check::attr_equals(
                    "dbplatform_database.db",
                    "id",
                    "accimport",
                ))
                .check(Check::attr_equals(
                    "dbplatform_database.db",
                    "backend",
                    "local",
                ))
                .check(Check::attr_set("dbplatform_database.db", "port")),
        )
        .step(Step::import_verify(ImportVerify {
            address: "dbplatform_database.db".into(),
            id: None,
            // The guardrail decision of the plan that created it: a plan-time record, not a property of
            // the database, so an import (which plans nothing) has none.
            ignore: vec!["policy_decision".into()],
        }))
        .check_destroy("the PostgreSQL server is stopped", move |_| {
            let pid_file = pgdata.join("postmaster.pid");
            if pid_file.exists() {
                Err(format!("{} still exists after destroy", pid_file.display()))
            } else {
                Ok(())
            }
        })
        .run();
}
