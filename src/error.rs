//! Every way a run ends early, typed, and mapped to its exit code in one place.

use thiserror::Error;

use crate::cluster::ClusterError;
use crate::setup::InputError;

/// Exit codes (DESIGN.md).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 1;
pub const EXIT_INPUT: i32 = 2;
pub const EXIT_COULD_NOT_RUN: i32 = 3;

#[derive(Debug, Error)]
pub enum RunError {
    /// The input file (or the cluster's copy) cannot be used.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A flag's value cannot be used (`--cacert`, `--resolve`, …).
    #[error("{0}")]
    Flag(String),
    /// Nothing to work on, and the command line says why.
    #[error("{0}")]
    Usage(String),
    /// Nothing to work on, because the cluster that would provide it cannot be reached.
    #[error("{0}")]
    NoLiveInput(String),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The reference provider could not start or serve.
    #[error("{0}")]
    Provider(String),
    /// A local resource (a port, a file, the async runtime) is not available.
    #[error("{0}")]
    Local(String),
    /// A HAR that cannot be read (or written back).
    #[error("{input}: {error}")]
    Har {
        input: String,
        error: crate::har::HarError,
    },
}

impl RunError {
    /// The exit code: 2 for what the operator can fix on the command line or in the input,
    /// 3 for what stopped the run from happening.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Input(_) | RunError::Flag(_) | RunError::Usage(_) | RunError::Har { .. } => {
                EXIT_INPUT
            }
            RunError::NoLiveInput(_)
            | RunError::Cluster(_)
            | RunError::Provider(_)
            | RunError::Local(_) => EXIT_COULD_NOT_RUN,
        }
    }

    /// The `error.kind` of the JSON error document.
    pub fn kind(&self) -> &'static str {
        match self {
            RunError::Input(_) | RunError::Flag(_) | RunError::Har { .. } => "input",
            RunError::Usage(_) | RunError::NoLiveInput(_) => "usage",
            RunError::Cluster(_) => "cluster",
            RunError::Provider(_) | RunError::Local(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let input = RunError::Input(InputError::Empty { input: "x".into() });
        assert_eq!((input.exit_code(), input.kind()), (EXIT_INPUT, "input"));
        let cluster = RunError::Cluster(ClusterError::NotFound("pods".into()));
        assert_eq!(
            (cluster.exit_code(), cluster.kind()),
            (EXIT_COULD_NOT_RUN, "cluster")
        );
        let usage = RunError::NoLiveInput("no cluster".into());
        assert_eq!(
            (usage.exit_code(), usage.kind()),
            (EXIT_COULD_NOT_RUN, "usage")
        );
    }
}
