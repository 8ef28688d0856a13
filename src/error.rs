//! One error type for the whole engine, carrying the step contract's exit code.

use std::fmt;
use std::path::Path;

/// What went wrong, which decides the exit code (see `docs/steps.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad command line: exit 2.
    Usage,
    /// Bad `mlgate.yaml` (or another config file): exit 2.
    Config,
    /// Bad or missing input data, model or state file: exit 2.
    Input,
    /// A service or tool outside mlgate failed (git, a store, a forge): exit 3.
    External,
}

/// An error with a user-facing message and an optional hint on how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(Kind::Input, message)
    }
    pub fn external(message: impl Into<String>) -> Self {
        Self::new(Kind::External, message)
    }

    /// Reading a file the user pointed us at failed: an input error naming the path.
    pub fn read(path: &Path, err: std::io::Error) -> Self {
        Self::input(format!(
            "cannot read {}: {}",
            path.display(),
            io_reason(&err)
        ))
    }

    /// Writing mlgate's own output failed: the machine, not the user's input, is at fault.
    pub fn write(path: &Path, err: std::io::Error) -> Self {
        Self::external(format!(
            "cannot write {}: {}",
            path.display(),
            io_reason(&err)
        ))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code of the step contract.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Usage | Kind::Config | Kind::Input => 2,
            Kind::External => 3,
        }
    }
}

/// `No such file or directory (os error 2)` reads worse than `no such file or directory`.
fn io_reason(err: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match err.kind() {
        NotFound => "no such file or directory".into(),
        PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
