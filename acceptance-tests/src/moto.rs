//! The AWS API emulator (moto_server) shared by every aws-backend test of one test binary.
//!
//! Started on first use on a free loopback port, under a small Python wrapper that exits as soon as the test
//! process is gone (its parent pid changes), so a killed or panicking test run never leaves an emulator behind.
//! `scripts/install-moto.sh` (run by `make tools`) installs it into `.tools/venv`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::{free_port, repo_root, wait_for_port, ChildGuard};

/// Runs moto's server and exits when the parent (the test binary) dies.
const MOTO_WRAPPER: &str = r#"
import os, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
"#;

/// The Python of `.tools/venv`, which also has boto3 for changes made "outside Terraform".
pub fn venv_python() -> PathBuf {
    repo_root().join(".tools/venv/bin/python")
}

static MOTO: OnceLock<(u16, Mutex<ChildGuard>)> = OnceLock::new();

/// Port of this test binary's emulator, started on the first call. Panics (failing the test) with what to
/// run when moto is not installed or does not come up.
pub fn moto_port() -> u16 {
    MOTO.get_or_init(|| {
        let py = venv_python();
        assert!(
            py.exists(),
            "{} missing: run scripts/install-moto.sh (make tools)",
            py.display()
        );
        let port = free_port().unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = Command::new(&py);
        cmd.args([
            "-c",
            MOTO_WRAPPER,
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let guard = ChildGuard::spawn("moto_server", &mut cmd).unwrap_or_else(|e| panic!("{e}"));
        wait_for_port(port, Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}"));
        (port, Mutex::new(guard))
    })
    .0
}
