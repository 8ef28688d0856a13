//! Bounded retries for forge API calls: rate limits (primary and secondary) and server
//! errors are retried with exponential backoff, or after the wait the forge asks for;
//! everything else fails at once with an explanation.

use std::future::Future;
use std::time::Duration;

/// How long and how often to retry. The defaults keep a step under about two minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first wait; doubled after each failure.
    pub base: Duration,
    /// No single wait is longer; a forge asking for more is not waited for.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: 5,
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// `MLGATE_FORGE_BACKOFF_MS` scales every wait (tests set it small); the bounds stay.
    /// `vars` looks a variable up in the environment the adapter captured.
    pub fn from_vars<'a>(vars: impl Fn(&str) -> Option<&'a str>) -> Backoff {
        let mut b = Backoff::default();
        if let Some(ms) = vars("MLGATE_FORGE_BACKOFF_MS").and_then(|v| v.parse::<u64>().ok()) {
            b.base = Duration::from_millis(ms);
            b.cap = Duration::from_millis(ms.saturating_mul(30));
        }
        b
    }
}

/// A failed API call, classified by the adapter that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status; `None` when no response arrived (connection refused, timeout).
    pub status: Option<u16>,
    /// The forge's own message (never holds the token: forges do not echo it).
    pub message: String,
    /// A rate limit, whatever its status code (GitHub answers 403 or 429).
    pub rate_limited: bool,
    /// How long the forge asked us to wait (`retry-after`, rate-limit reset).
    pub retry_after: Option<Duration>,
    /// No connection could be made (refused, unknown host): nothing answers there, so
    /// waiting would not help, unlike a timeout or a dropped connection.
    pub unreachable: bool,
}

impl Failure {
    pub fn retriable(&self) -> bool {
        !self.unreachable
            && (self.rate_limited || matches!(self.status, None | Some(429) | Some(500..=599)))
    }
}

/// Whether `err` or one of its causes says no connection could be made at all.
pub fn unreachable(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::HostUnreachable
            ) {
                return true;
            }
        }
        let text = e.to_string().to_lowercase();
        if text.contains("connection refused") || text.contains("dns error") {
            return true;
        }
        source = e.source();
    }
    false
}

/// Runs `call` until it succeeds, fails for good, or the attempts are spent. Returns the
/// last failure and how many attempts were made.
pub async fn retry<T, F, Fut>(backoff: Backoff, mut call: F) -> Result<T, (Failure, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut wait = backoff.base;
    for attempt in 1.. {
        let failure = match call().await {
            Ok(value) => return Ok(value),
            Err(f) => f,
        };
        if !failure.retriable() || attempt >= backoff.attempts {
            return Err((failure, attempt));
        }
        let pause = failure.retry_after.unwrap_or(wait);
        if pause > backoff.cap {
            return Err((failure, attempt));
        }
        tracing::warn!(
            status = failure.status,
            "forge call failed ({}); retrying in {:?}",
            failure.message,
            pause
        );
        tokio::time::sleep(pause).await;
        wait = (wait * 2).min(backoff.cap);
    }
    unreachable!("the loop returns")
}

/// Parses `retry-after` (seconds) or a rate-limit reset (epoch seconds) header value.
pub fn wait_from_headers(retry_after: Option<&str>, reset_epoch: Option<&str>) -> Option<Duration> {
    if let Some(secs) = retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    let reset = reset_epoch.and_then(|v| v.trim().parse::<i64>().ok())?;
    let now = chrono::Utc::now().timestamp();
    Some(Duration::from_secs(
        u64::try_from(reset - now).unwrap_or(0) + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn fast() -> Backoff {
        Backoff {
            attempts: 3,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(50),
        }
    }

    fn failure(status: u16) -> Failure {
        Failure {
            status: Some(status),
            message: "x".into(),
            rate_limited: false,
            retry_after: None,
            unreachable: false,
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_not_retried() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = retry(fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Failure {
                status: None,
                unreachable: true,
                ..failure(0)
            })
        })
        .await;
        assert_eq!(out.unwrap_err().1, 1);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(unreachable(&refused));
        assert!(!unreachable(&std::io::Error::from(
            std::io::ErrorKind::TimedOut
        )));
    }

    #[tokio::test]
    async fn server_errors_are_retried_then_succeed() {
        let calls = AtomicU32::new(0);
        let out = retry(fast(), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(failure(502)),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(out, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn client_errors_fail_at_once_and_retries_are_bounded() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = retry(fast(), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(failure(404))
        })
        .await;
        assert_eq!(out.unwrap_err().1, 1);
        let out: Result<(), _> = retry(fast(), || async { Err(failure(503)) }).await;
        assert_eq!(out.unwrap_err().1, 3);
    }

    #[tokio::test]
    async fn a_wait_beyond_the_cap_is_not_waited_for() {
        let mut f = failure(403);
        f.rate_limited = true;
        f.retry_after = Some(Duration::from_secs(3600));
        let out: Result<(), _> = retry(fast(), || {
            let f = f.clone();
            async move { Err(f) }
        })
        .await;
        assert_eq!(out.unwrap_err().1, 1);
    }

    #[test]
    fn headers_give_the_wait() {
        assert_eq!(
            wait_from_headers(Some("3"), None),
            Some(Duration::from_secs(3))
        );
        let soon = (chrono::Utc::now().timestamp() + 5).to_string();
        let wait = wait_from_headers(None, Some(&soon)).unwrap();
        assert!(wait <= Duration::from_secs(6) && wait >= Duration::from_secs(4));
        assert_eq!(wait_from_headers(None, None), None);
    }
}
