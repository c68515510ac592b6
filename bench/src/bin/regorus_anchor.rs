//! `regorus_anchor PLAN.json POLICY.rego [QUERY...]`: the yardstick `make bench` divides `dbpolicy check` times by.
//! Bare regorus (the version and features `dbpolicy` is built with, system allocator, no dbplatform code):
//! read the plan, parse it into a regorus value, set it as `input`, add one Rego module and evaluate each rule
//! (default `data.main.deny` and `data.main.warn`: the 8 checks of `policy/benches/conftest8`) once over the whole
//! plan. Prints how many results each query gave, so a run that evaluated nothing is visible.

use std::process::ExitCode;

fn run(args: &[String]) -> Result<(), String> {
    let (plan, policy) = match args {
        [p, r, ..] => (p, r),
        _ => return Err("usage: regorus_anchor PLAN.json POLICY.rego [QUERY...]".into()),
    };
    let queries: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        vec!["data.main.deny".into(), "data.main.warn".into()]
    };
    let text = std::fs::read_to_string(plan).map_err(|e| format!("cannot read {plan}: {e}"))?;
    let rego = std::fs::read_to_string(policy).map_err(|e| format!("cannot read {policy}: {e}"))?;
    let mut engine = regorus::Engine::new();
    engine
        .add_policy(policy.clone(), rego)
        .map_err(|e| format!("{policy}: {e}"))?;
    let input = regorus::Value::from_json_str(&text).map_err(|e| format!("{plan}: {e}"))?;
    drop(text);
    engine.set_input(input);
    for q in queries {
        let v = engine
            .eval_rule(q.clone())
            .map_err(|e| format!("{q}: {e}"))?;
        let n = match &v {
            regorus::Value::Set(s) => s.len(),
            regorus::Value::Array(a) => a.len(),
            regorus::Value::Undefined => 0,
            _ => 1,
        };
        println!("{q}: {n} results");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("regorus_anchor: {e}");
            ExitCode::from(2)
        }
    }
}
