//! The CLI's error policy, written down once: what ends a run, what the user reads
//! (`error: <ERROR>: <description>`, as the api words it) and the exit code a script
//! reads (docs/cli.md, "Exit codes").

use std::fmt;
use std::time::Duration;

/// The exit codes, the same for every command.
pub mod exit {
    /// Done: every item of every job applied (`304 NOT_MODIFIED` counts as applied).
    pub const APPLIED: u8 = 0;
    /// A job waited for with `--wait` is `DONE` with failed items.
    pub const ITEMS_FAILED: u8 = 1;
    /// A usage error: a bad flag or a missing setting (clap's own code).
    pub const USAGE: u8 = 2;
    /// Refused: the input file is bad (nothing was sent), or the api answered with an error.
    pub const REFUSED: u8 = 3;
    /// Not finished: the api could not be reached, `--wait` timed out, or an answer could
    /// not be read. What happened is unknown: run the same command again.
    pub const UNFINISHED: u8 = 4;
}

/// Everything that ends a run early.
#[derive(Debug)]
pub enum CliError {
    /// Bad flags or missing settings: nothing was sent.
    Usage(String),
    /// A bad file, or its bad rows: `file:line: problem` each; nothing was sent.
    BadInput { file: String, problems: Vec<String> },
    /// The api answered with an error (`{"error", "description"}`).
    Api { status: u16, error: String, description: String, retry_after: Option<Duration> },
    /// The api could not be reached at all.
    Transport { url: String, message: String },
    /// Anything else that kept the run from finishing.
    Unfinished(String),
    /// stdout was closed by the reader (`ratify job … --csv | head`): stop quietly.
    ClosedOutput,
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::BadInput { .. } | CliError::Api { .. } => exit::REFUSED,
            CliError::Transport { .. } | CliError::Unfinished(_) => exit::UNFINISHED,
            CliError::ClosedOutput => exit::APPLIED,
        }
    }

    /// The lines to print, each after `error: `.
    pub fn lines(&self) -> Vec<String> {
        match self {
            CliError::BadInput { file, problems } if problems.len() > 1 => {
                let mut lines = problems.clone();
                lines.push(format!("{file}: {} bad rows; nothing was submitted", problems.len()));
                lines
            }
            other => vec![other.to_string()],
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Unfinished(message) => f.write_str(message),
            CliError::BadInput { problems, .. } => f.write_str(&problems.join("; ")),
            CliError::Api { error, description, .. } => write!(f, "{error}: {description}"),
            CliError::Transport { url, message } => write!(f, "could not reach the api at {url}: {message}"),
            CliError::ClosedOutput => Ok(()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::ClosedOutput
        } else {
            CliError::Unfinished(format!("cannot write the output: {e}"))
        }
    }
}
