//! A scratch copy outlives a dbpolicy that is stopped with Ctrl-C, `kill` or a closed terminal unless someone
//! removes it: while one exists, SIGINT, SIGTERM and SIGHUP are taken by a thread of their own (blocked for every
//! other thread, read with `sigwait`), which stops and removes the copy, says so, and exits with 130.

use std::sync::{Arc, Mutex, OnceLock};

/// What to run when dbpolicy is interrupted: stopping and removing the copy in use, if any.
type Cleanup = Box<dyn FnOnce() + Send>;

/// The cleanup armed now (`None` once the copy is removed).
fn armed() -> &'static Arc<Mutex<Option<Cleanup>>> {
    static ARMED: OnceLock<Arc<Mutex<Option<Cleanup>>>> = OnceLock::new();
    ARMED.get_or_init(|| Arc::new(Mutex::new(None)))
}

/// The signals that stop dbpolicy from a terminal or a CI runner.
fn signals() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset initialise and fill the set they are given; no other memory is touched.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Starts the signal thread once: the signals are blocked in the calling thread first, so every thread made later
/// (runtimes, database connections, this one) inherits the block and only `sigwait` receives them. Call it from
/// the main thread before any other thread runs for the rest of the command.
fn start_once() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let set = signals();
        // SAFETY: pthread_sigmask only changes this thread's signal mask, from a valid set.
        unsafe {
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        std::thread::spawn(move || loop {
            let mut sig = 0;
            // SAFETY: sigwait reads a valid set and writes the received signal into `sig`.
            if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
                continue;
            }
            // Held until the exit: the main thread, whose run fails once the copy is stopped, must neither remove
            // the copy a second time nor exit first.
            let mut guard = armed().lock();
            if let Some(cleanup) = guard.as_mut().ok().and_then(|a| a.take()) {
                eprintln!(
                    "dbpolicy: interrupted (signal {sig}); stopping and removing the scratch copy"
                );
                cleanup();
            }
            std::process::exit(130);
        });
    });
}

/// Runs `cleanup` if dbpolicy is interrupted before [`disarm_with`].
pub fn arm(cleanup: impl FnOnce() + Send + 'static) {
    start_once();
    if let Ok(mut a) = armed().lock() {
        *a = Some(Box::new(cleanup));
    }
}

/// Disarms and runs `remove` (the normal removal of the copy) while holding the armed state, so a signal arriving
/// meanwhile waits for it to finish and then only exits: the copy is removed once, by one thread.
pub fn disarm_with<T>(remove: impl FnOnce() -> T) -> T {
    let guard = armed().lock();
    let result = remove();
    if let Ok(mut a) = guard {
        *a = None;
    }
    result
}
