//! fastpredict-server: serves fastpredict model files over HTTP (Open Inference Protocol, vetiver), with no R.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

mod auth;
mod config;
mod errors;
mod grpc;
mod health;
mod limits;
mod log;
mod metrics;
mod predict;
mod repository;
mod routes;
mod serve;

use config::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Health(h)) => return health::probe(&h),
        None => cli.serve,
    };
    let _log = match log::init(args.log_format, &args.log_level) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("fastpredict-server: {e}");
            return ExitCode::from(2);
        }
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(w) = args.workers {
        runtime.worker_threads(w.max(1));
    }
    let runtime = match runtime.enable_all().thread_name("fastpredict-http").build() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(serve::run(args));
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}
