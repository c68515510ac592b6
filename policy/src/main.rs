//! `dbpolicy`: the policy CLI. All logic lives in `policy::cli`.

fn main() -> std::process::ExitCode {
    policy::cli::main()
}
