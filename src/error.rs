//! One error type for the whole engine, carrying the step contract's exit code, the
//! cause it came from, and whether trying again later may succeed.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

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

/// Whether the same call may succeed later, which decides what an adapter does with a
/// failure: a function hands a transient one back to its platform for a retry, and
/// records and reports a permanent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Throttling, a 5xx answer, a timeout or a dropped connection.
    Transient,
    /// Everything else: bad input, access denied, not found, invalid requests.
    Permanent,
}

/// An error with a user-facing message, an optional hint on how to fix it, and the
/// lower-level error it came from (an SDK's, an I/O error), kept for [`std::error::Error::source`].
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    pub retry: Retry,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            retry: Retry::Permanent,
            source: None,
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

    /// An external failure that may go away by itself (throttled, 5xx, timeout).
    pub fn transient(message: impl Into<String>) -> Self {
        Self::external(message).retry_as(Retry::Transient)
    }
    /// A feature compiled out of this build: what it is for and how to get it.
    pub fn not_built(what: &str, feature: &str) -> Self {
        Self::config(format!(
            "{what} is not in this build of mlgate (built without the `{feature}` feature)"
        ))
        .with_hint(format!(
            "rebuild mlgate with `--features {feature}` (the default build has every feature)"
        ))
    }

    /// Reading a file the user pointed us at failed: an input error naming the path.
    pub fn read(path: &Path, err: std::io::Error) -> Self {
        Self::input(format!(
            "cannot read {}: {}",
            path.display(),
            io_reason(&err)
        ))
        .with_source(err)
    }

    /// Writing mlgate's own output failed: the machine, not the user's input, is at fault.
    pub fn write(path: &Path, err: std::io::Error) -> Self {
        Self::external(format!(
            "cannot write {}: {}",
            path.display(),
            io_reason(&err)
        ))
        .with_source(err)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Keeps the error this one explains, for callers that walk the chain.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    pub fn retry_as(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Whether trying again later may succeed (see [`Retry`]).
    pub fn is_transient(&self) -> bool {
        self.retry == Retry::Transient
    }

    /// The same error with `context` put before its message (the kind, hint, source and
    /// transience stay).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
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

/// An error and its causes on one line: the top-level message of an SDK or HTTP client
/// alone often says little ("dispatch failure", "client error (Connect)").
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
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

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Equal when what the user sees is equal: the source is detail behind the message.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, &self.message, &self.hint, self.retry)
            == (other.kind, &other.message, &other.hint, other.retry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn keeps_its_source_and_says_whether_to_retry() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow disk");
        let err = Error::write(Path::new("out.json"), io);
        assert!(!err.is_transient());
        assert_eq!(err.source().unwrap().to_string(), "slow disk");
        let err = Error::transient("S3 answered 503").context("store");
        assert!(err.is_transient());
        assert_eq!(err.message, "store: S3 answered 503");
        assert_eq!(err.exit_code(), 3);
    }

    #[test]
    fn a_missing_feature_names_it() {
        let err = Error::not_built("the `s3://` store", "aws");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--features aws"), "{err}");
    }
}
