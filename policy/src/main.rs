//! `dbpolicy`: the policy CLI. All logic lives in `policy::cli`.

/// mimalloc: parsing a large plan and evaluating thousands of inputs is allocation-bound, and glibc's allocator
/// spent a quarter of the run in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    policy::cli::main()
}
