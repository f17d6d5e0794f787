//! dexcheck: diagnose OIDC single sign-on through a Dex embedded behind an application's URL.
//!
//! `run` parses the command line and hands over to `cmd::`; ARCHITECTURE.md maps the rest.

pub mod app;
pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod diagnosis;
pub mod error;
pub mod explain;
pub mod har;
pub mod knowledge;
pub mod plan;
pub mod probe;
mod progress;
pub mod provider;
pub mod report;
pub mod route;
pub mod secret;
pub mod setup;

use std::ffi::OsString;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};
pub use error::{EXIT_COULD_NOT_RUN, EXIT_FAILED, EXIT_INPUT, EXIT_OK, RunError};

/// Runs the program on `args` (argv[0] first) and returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let plugin = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kubectl-"));
    let mut cmd = Cli::command();
    if plugin {
        cmd = cmd.bin_name("kubectl dexcheck").display_name("kubectl dexcheck").about(
            "kubectl plugin: which network path breaks SSO through Devtron's or Argo CD's embedded Dex, and what would work",
        );
    }
    let cli = match cmd
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let table = cli::OutputFormat::Table;
    match cli.command {
        None => cmd::check::run(&cli.check),
        Some(Command::Check(a)) => cmd::check::run(&a),
        Some(Command::Serve(a)) => cmd::serve::run(&a),
        Some(Command::Demo(a)) => cmd::demo::run(&a),
        Some(Command::Explain(a)) => cmd::explain::run(&a),
        Some(Command::Har(a)) => cmd::har::run(&a),
        Some(Command::Watch(a)) => cmd::watch::run(&a),
        Some(Command::Completions { shell }) => {
            cmd::finish("dexcheck", table, cmd::meta::completions(shell, plugin))
        }
        Some(Command::Man) => cmd::finish("dexcheck man", table, cmd::meta::man()),
    }
}
