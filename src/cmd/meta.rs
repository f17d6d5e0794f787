//! `dexcheck completions` and `dexcheck man`: about the program itself.

use clap::CommandFactory;

use super::write_stdout;
use crate::cli::Cli;
use crate::error::{EXIT_OK, RunError};

/// A shell completion script, for the name the program was started as.
pub fn completions(shell: clap_complete::Shell, plugin: bool) -> Result<i32, RunError> {
    let mut cmd = Cli::command();
    let name = if plugin {
        "kubectl-dexcheck"
    } else {
        "dexcheck"
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    write_stdout(&String::from_utf8_lossy(&buf));
    Ok(EXIT_OK)
}

/// The man page, as roff.
pub fn man() -> Result<i32, RunError> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| RunError::Local(format!("man: {e}")))?;
    write_stdout(&String::from_utf8_lossy(&buf));
    Ok(EXIT_OK)
}
