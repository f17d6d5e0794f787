//! The subcommands, one file each. Each returns a `Result`; [`finish`] turns an error into its
//! message, its machine-readable form and its exit code, once for every command.

pub mod check;
pub mod demo;
pub mod explain;
pub mod fleet;
pub mod har;
pub mod meta;
pub mod serve;
pub mod watch;

use std::io::Write;

use crate::cli::OutputFormat;
use crate::error::RunError;
use crate::report;

/// The async runtime every command runs on. The process's one rustls crypto provider (ring,
/// STACK.md) is installed first; a second call is harmless.
pub fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Local(format!("could not start the async runtime: {e}")))
}

/// Runs `f` on a fresh runtime and shuts it down without waiting for stragglers.
pub fn block_on<T>(
    f: impl std::future::Future<Output = Result<T, RunError>>,
) -> Result<T, RunError> {
    let rt = runtime()?;
    let out = rt.block_on(f);
    rt.shutdown_background();
    out
}

/// Writes to stdout; a closed pipe (`dexcheck … | head`) is not worth a panic.
pub fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// The exit code of a command's result: its own code, or the error reported on stderr (and as
/// a document in the machine formats that have one) with the error's code.
pub fn finish(prefix: &str, format: OutputFormat, result: Result<i32, RunError>) -> i32 {
    let e = match result {
        Ok(code) => return code,
        Err(e) => e,
    };
    let message = e.to_string();
    eprintln!("{prefix}: {message}");
    match format {
        OutputFormat::Json => write_stdout(&report::json::render_error(
            e.kind(),
            &message,
            e.exit_code(),
        )),
        OutputFormat::Github => write_stdout(&report::github::error_command(&message)),
        OutputFormat::Prometheus => {
            write_stdout(&report::prometheus::render_error(e.kind(), e.exit_code()))
        }
        _ => {}
    }
    e.exit_code()
}
