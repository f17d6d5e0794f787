//! `dexcheck har`: a browser's HAR of a login. `sanitize` streams it to stdout with every secret
//! redacted (`har::sanitize`), one entry at a time.

use std::io::{Read, Write};

use crate::cli::{HarArgs, HarCommand, OutputFormat};
use crate::error::{EXIT_OK, RunError};
use crate::har;

pub fn run(args: &HarArgs) -> i32 {
    super::finish("dexcheck har", OutputFormat::Table, run_inner(args))
}

fn run_inner(args: &HarArgs) -> Result<i32, RunError> {
    match &args.command {
        HarCommand::Sanitize { input } => sanitize(input),
    }
}

fn open(input: &str) -> Result<Box<dyn Read>, RunError> {
    if input == "-" {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    std::fs::File::open(input)
        .map(|f| Box::new(f) as Box<dyn Read>)
        .map_err(|e| RunError::Har {
            input: input.to_string(),
            error: har::HarError::Io(e),
        })
}

fn sanitize(input: &str) -> Result<i32, RunError> {
    let r = open(input)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let seen =
        har::transform(r, &mut w, &mut har::sanitize::entry).map_err(|error| RunError::Har {
            input: input.to_string(),
            error,
        })?;
    w.write_all(b"\n")
        .and_then(|_| w.flush())
        .map_err(|e| RunError::Har {
            input: "<stdout>".into(),
            error: har::HarError::Io(e),
        })?;
    eprintln!(
        "dexcheck har sanitize: {} entries written, secrets redacted",
        seen.entries
    );
    Ok(EXIT_OK)
}
