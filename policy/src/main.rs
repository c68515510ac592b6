//! `dbpolicy`: the policy CLI. All logic lives in `policy::cli`.

/// mimalloc: parsing a large plan and evaluating thousands of inputs is allocation-bound, and glibc's allocator
/// spent a quarter of the run in malloc/free.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in the option enum of mimalloc 2.x and 3.x; the Rust bindings
/// name no constant for it). The test below checks that it still is.
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Give freed pages back to the OS at once. By default mimalloc keeps them for up to a second, so a check
    // that frees a large plan's parse trees and then builds its results holds both: 147 MiB peak instead of
    // 110 MiB at 5,000 instances, for no gain in speed.
    // SAFETY: setting an option is thread-safe and only affects when later frees are returned to the OS.
    #[cfg(feature = "mimalloc")]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0)
    };
    policy::cli::main()
}

#[cfg(all(test, feature = "mimalloc"))]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_option_index_is_mimallocs() {
        // purge_delay defaults to 1000 ms in mimalloc 3.x; no option next to it has that default.
        // SAFETY: reading an option is thread-safe.
        let v = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(
            v, 1000,
            "mimalloc option {MI_OPTION_PURGE_DELAY} is not purge_delay in this mimalloc version"
        );
    }
}
