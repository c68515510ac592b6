//! `terraform-provider-dbplatform`: started by Terraform (go-plugin handshake, mTLS, gRPC), or by a person
//! with `--debug` so that Terraform attaches to it, or with `--version`.

use std::process::ExitCode;
use std::sync::Arc;

use provider::plugin::{self, ServeOptions};

/// The address Terraform knows this provider by (used in `TF_REATTACH_PROVIDERS`).
const PROVIDER_ADDRESS: &str = "registry.terraform.io/dbplatform/dbplatform";

const USAGE: &str = "\
Usage: terraform-provider-dbplatform [--debug] [--version]

This is the dbplatform Terraform provider. Terraform starts it by itself during
terraform init/plan/apply; you do not run it by hand.

Options:
  --debug     Serve without Terraform starting the process: prints a
              TF_REATTACH_PROVIDERS value to export in the shell where you run
              terraform, and serves until Ctrl-C (useful with a debugger or to
              read the provider's logs directly).
  --version   Print the version and exit.
  --help      Print this help and exit.
";

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--version" | "-version" | "version" => {
                println!(
                    "terraform-provider-dbplatform {}",
                    env!("CARGO_PKG_VERSION")
                );
                return ExitCode::SUCCESS;
            }
            "--help" | "-h" | "-help" | "help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("terraform-provider-dbplatform: unknown argument {other:?}.\n\n{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }

    plugin::logging::init_from_env();
    tracing::trace!("provider process started");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-dbplatform: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = ServeOptions {
        debug,
        provider_address: PROVIDER_ADDRESS.to_string(),
    };
    let provider = Arc::new(provider::config::DbPlatformProvider::new());
    tracing::trace!("provider built");
    match runtime.block_on(plugin::serve(provider, opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
