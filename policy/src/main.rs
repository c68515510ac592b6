//! `dbpolicy`: the policy CLI. All logic lives in `policy::cli`.

/// mimalloc: parsing a large plan and evaluating thousands of inputs is allocation-bound, and glibc's allocator
/// spent a quarter of the run in malloc/free.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` and `mi_option_allow_thp` (their places in the option enum of mimalloc 3.x;
/// the Rust bindings name no constants for them). The tests below check that they still are.
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
#[cfg(feature = "mimalloc")]
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

#[cfg(feature = "mimalloc")]
/// How long freed memory stays with the process before it is given back to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

fn main() -> std::process::ExitCode {
    // Freed pages go back to the OS after 10 ms, in 4 KiB pages: mimalloc's default keeps them for a second,
    // so a check that frees a large plan's parse trees and then builds its results holds both (147 MiB peak
    // instead of 110 at 5,000 instances); giving them back at once (0 ms) made every short-lived buffer of a
    // migration check fault its pages in again (60,000 page faults and a third of the run for 20,000
    // statements); and transparent huge pages made each fault clear 2 MiB. A MIMALLOC_PURGE_DELAY or
    // MIMALLOC_ALLOW_THP in the environment still wins, for measuring.
    // SAFETY: setting an option is thread-safe and only affects how later allocations get and return pages;
    // PR_SET_THP_DISABLE takes no pointers and only changes how later page faults are served.
    #[cfg(feature = "mimalloc")]
    unsafe {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
            // mimalloc reserved its first arena (with MADV_HUGEPAGE) before main: turn huge pages off for
            // the whole process, which the kernel checks at each page fault.
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
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

    #[test]
    fn allow_thp_option_index_is_mimallocs() {
        // allow_thp defaults to 1; its neighbours (cross-thread reclaim limit, minimal purge size) do not.
        // SAFETY: reading an option is thread-safe.
        let v = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ALLOW_THP) };
        let before = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_ALLOW_THP - 1) };
        assert_eq!(
            (v, before),
            (1, 32),
            "mimalloc option {MI_OPTION_ALLOW_THP} is not allow_thp in this mimalloc version"
        );
    }
}
