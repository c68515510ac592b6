//! Tests of the harness itself against the real Terraform CLI, with configs that need no provider (only
//! outputs), so they hold whatever state the provider is in: step flow, expectations, the idempotency
//! check after apply, and the failure messages a developer sees.

use acceptance_tests::{Check, ExpectPlan, HarnessError, Step, TestCase, Workdir};

/// A root module that requires no provider at all (the harness keeps a config's own
/// `required_providers`).
fn no_provider(body: &str) -> String {
    format!("terraform {{\n  required_providers {{}}\n}}\n{body}")
}

#[test]
fn terraform_is_the_pinned_1_0_3_unless_another_is_chosen() {
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    let out = wd.run_ok(&["version"]).unwrap_or_else(|e| panic!("{e}"));
    let chosen =
        std::env::var_os(acceptance_tests::paths::TERRAFORM_BIN_ENV).is_some_and(|p| !p.is_empty());
    let expected = if chosen {
        let (major, minor, patch) =
            acceptance_tests::terraform_version().unwrap_or_else(|e| panic!("{e}"));
        format!("Terraform v{major}.{minor}.{patch}\n")
    } else {
        "Terraform v1.0.3\non linux_amd64".to_string()
    };
    assert!(out.stdout.starts_with(&expected), "{out}");
}

#[test]
fn steps_apply_check_outputs_plan_noop_and_match_errors() {
    let v14 = no_provider("output \"days\" {\n  value = 14\n}\n");
    let v15 = no_provider("output \"days\" {\n  value = 15\n}\n");
    TestCase::new()
        .step(
            Step::apply(v14.clone())
                .expect(ExpectPlan::Changes {
                    create: 0,
                    update: 0,
                    replace: 0,
                    destroy: 0,
                })
                .check(Check::output_equals("days", 14))
                .check(Check::output_matches("days", "^1[0-9]$")),
        )
        .step(Step::plan_only(v14).expect(ExpectPlan::NoOp))
        .step(
            Step::plan_only(v15).plan_check("planned output is 15", |plan| {
                match plan.planned_output("days") {
                    Some(v) if v == 15 => Ok(()),
                    other => Err(format!("planned days = {other:?}")),
                }
            }),
        )
        .step(
            Step::validate(no_provider("output \"x\" {\n  value = var.nope\n}\n"))
                .expect(ExpectPlan::error("Reference to undeclared input variable")),
        )
        .step(
            Step::plan_only(no_provider("output \"x\" {\n  value = var.nope\n}\n")).expect(
                ExpectPlan::error(
                    r#"An input variable with the name "nope" has not been declared\."#,
                ),
            ),
        )
        .run();
}

#[test]
fn a_failed_check_names_the_step_the_expectation_and_the_value() {
    let err = TestCase::new()
        .step(Step::apply(no_provider(
            "output \"days\" {\n  value = 14\n}\n",
        )))
        .step(
            Step::plan_only(no_provider("output \"days\" {\n  value = 14\n}\n"))
                .check(Check::output_equals("days", 15)),
        )
        .try_run()
        .expect_err("14 is not 15");
    assert!(matches!(err, HarnessError::Step { step: 2, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "step 2 (plan) failed: check failed: output days == 15; got 14"
    );
}

#[test]
fn a_failed_command_shows_command_exit_code_and_output() {
    let err = TestCase::new()
        .step(Step::plan_only(no_provider(
            "output \"x\" {\n  value = var.nope\n}\n",
        )))
        .try_run()
        .expect_err("undeclared variable");
    let text = err.to_string();
    assert!(
        text.starts_with("step 1 (plan) failed: terraform plan failed\n$ "),
        "{text}"
    );
    let terraform = acceptance_tests::terraform_binary().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text.contains(&format!(
            "$ {} plan -input=false -no-color -out=tfplan\n",
            terraform.display()
        )),
        "{text}"
    );
    assert!(text.contains("exit code 1 after"), "{text}");
    assert!(
        text.contains("--- stderr ---\n\nError: Reference to undeclared input variable"),
        "{text}"
    );
}

#[test]
fn an_unexpected_success_and_a_non_matching_error_fail_the_step() {
    let err = TestCase::new()
        .step(
            Step::plan_only(no_provider("output \"x\" {\n  value = 1\n}\n"))
                .expect(ExpectPlan::error("anything")),
        )
        .try_run()
        .expect_err("plan succeeds");
    assert!(
        err.to_string()
            .starts_with("step 1 (plan) failed: expected plan to fail with an error matching /anything/, but it succeeded"),
        "{err}"
    );
    let err = TestCase::new()
        .step(
            Step::validate(no_provider("output \"x\" {\n  value = var.nope\n}\n"))
                .expect(ExpectPlan::error("Unsupported block type")),
        )
        .try_run()
        .expect_err("other error");
    let text = err.to_string();
    assert!(
        text.contains("validate failed as expected, but no error matches /Unsupported block type/"),
        "{text}"
    );
    assert!(
        text.contains("Error: Reference to undeclared input variable"),
        "{text}"
    );
}

#[test]
fn a_plan_that_still_changes_after_apply_is_an_error_unless_expected() {
    // timestamp() is unknown until apply, so every plan changes this output again.
    let drifting = no_provider("output \"t\" {\n  value = timestamp()\n}\n");
    let err = TestCase::new()
        .step(Step::apply(drifting.clone()))
        .try_run()
        .expect_err("not idempotent");
    let text = err.to_string();
    assert!(
        text.contains("after apply, a fresh plan is not empty"),
        "{text}"
    );
    assert!(text.contains("output.t: [\"update\"]"), "{text}");
    TestCase::new()
        .step(Step::apply(drifting).expect_non_empty_plan_after_apply())
        .run();
}

#[test]
fn plan_expectations_report_counts_and_changes() {
    let err = TestCase::new()
        .step(
            Step::plan_only(no_provider("output \"x\" {\n  value = 1\n}\n"))
                .expect(ExpectPlan::NoOp),
        )
        .try_run()
        .expect_err("output is new");
    assert_eq!(
        err.to_string(),
        "step 1 (plan) failed: expected a plan with no changes, got:\n  output.x: [\"create\"]"
    );
    let err = TestCase::new()
        .step(
            Step::plan_only(no_provider("output \"x\" {\n  value = 1\n}\n"))
                .expect(ExpectPlan::creates(1)),
        )
        .try_run()
        .expect_err("no resources");
    assert!(
        err.to_string().starts_with(
            "step 1 (plan) failed: expected a plan with 1 to create, 0 to update, 0 to replace, 0 to destroy, got 0 to create"
        ),
        "{err}"
    );
}

#[test]
fn destroy_checks_run_and_report() {
    let err = TestCase::new()
        .step(Step::apply(no_provider("output \"x\" {\n  value = 1\n}\n")))
        .check_destroy("workdir is gone", |wd| {
            Err(format!("{} still exists", wd.path().display()))
        })
        .try_run()
        .expect_err("check fails");
    assert!(
        err.to_string().starts_with(
            "destroy at the end of the test case failed: destroy check workdir is gone failed: /"
        ),
        "{err}"
    );
}

#[test]
fn state_file_addresses_reads_the_raw_state_without_terraform() {
    let wd = Workdir::new().unwrap_or_else(|e| panic!("{e}"));
    assert!(wd
        .state_file_addresses()
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    let state = r#"{"version": 4, "resources": [
        {"mode": "data", "type": "dbplatform_tier", "name": "t1", "instances": [{}]},
        {"mode": "managed", "type": "dbplatform_database", "name": "failed", "instances": []},
        {"module": "module.db", "mode": "managed", "type": "dbplatform_database", "name": "db", "instances": [{}]}]}"#;
    wd.write_file("terraform.tfstate", state)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        wd.state_file_addresses().unwrap_or_else(|e| panic!("{e}")),
        vec![
            "data.dbplatform_tier.t1".to_string(),
            "module.db.dbplatform_database.db".to_string()
        ]
    );
}
