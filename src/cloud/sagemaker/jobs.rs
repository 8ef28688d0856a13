//! Waiting for SageMaker jobs: poll the job, print a line to the CI log whenever its
//! status changes (and at least once a minute), with the elapsed time and the estimated
//! cost, and end with the job's outcome. A failed or stopped job is an external failure
//! (exit 3) carrying SageMaker's reason.

use crate::error::{Error, Result};
use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Running,
    Completed,
    Failed(String),
    Stopped(String),
}

/// One look at a job.
#[derive(Debug, Clone)]
pub struct Observation {
    pub state: State,
    /// The primary status as SageMaker says it (`InProgress`, …).
    pub status: String,
    /// Secondary status and its latest message, if any.
    pub detail: String,
    pub created: Option<SystemTime>,
    /// Seconds billed so far (or in total once ended).
    pub billable_seconds: f64,
}

/// A line is printed at least this often while nothing changes.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// Polls `observe` every `poll` until the job ends; `cost` turns billable seconds into
/// an estimated price when the price table knows the instance type.
pub async fn wait<F, Fut>(
    label: &str,
    poll: Duration,
    cost: impl Fn(f64) -> Option<f64>,
    mut observe: F,
) -> Result<Observation>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Observation>>,
{
    let mut last_line = String::new();
    let mut last_print = Instant::now();
    loop {
        let seen = observe().await?;
        let line = if seen.detail.is_empty() {
            seen.status.clone()
        } else {
            format!("{} — {}", seen.status, seen.detail)
        };
        if line != last_line || last_print.elapsed() >= HEARTBEAT {
            eprintln!("{}", progress_line(label, &seen, &line, &cost));
            last_line = line;
            last_print = Instant::now();
        }
        match &seen.state {
            State::Running => tokio::time::sleep(poll).await,
            State::Completed => return Ok(seen),
            State::Failed(reason) => {
                return Err(
                    Error::external(format!("{label} failed: {reason}")).with_hint(
                        "fix the cause, then change the config or code (a new job name) and rerun",
                    ),
                )
            }
            State::Stopped(reason) => {
                return Err(
                    Error::external(format!("{label} was stopped: {reason}")).with_hint(
                        "the job was stopped by someone or by its maximum runtime; raise \
                     `max_runtime_seconds` if it needs longer",
                    ),
                )
            }
        }
    }
}

fn progress_line(
    label: &str,
    seen: &Observation,
    line: &str,
    cost: &impl Fn(f64) -> Option<f64>,
) -> String {
    let elapsed = seen
        .created
        .and_then(|c| SystemTime::now().duration_since(c).ok())
        .map(|d| format!("[{}] ", clock(d.as_secs())))
        .unwrap_or_default();
    let so_far = if seen.state == State::Running {
        " so far"
    } else {
        ""
    };
    let price = cost(seen.billable_seconds)
        .map(|usd| format!(" (≈ ${usd:.2}{so_far})"))
        .unwrap_or_default();
    format!("{elapsed}{label}: {line}{price}")
}

/// Reruns of a failed or stopped job are retries, up to this many attempts.
const MAX_ATTEMPTS: u32 = 5;

/// The job a run waits for: the first attempt (`BASE`, then `BASE-2`, …) that did not
/// fail or stop, with its status if it exists. A rerun after a killed runner finds the
/// running attempt; a rerun after a failure starts the next one.
pub async fn attempt<F, Fut>(
    kind: &str,
    base: &str,
    mut look: F,
) -> Result<(String, Option<String>)>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Option<Observation>>>,
{
    let mut last_failure = String::new();
    for n in 1..=MAX_ATTEMPTS {
        let name = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        let Some(seen) = look(name.clone()).await? else {
            return Ok((name, None));
        };
        match seen.state {
            State::Failed(reason) | State::Stopped(reason) => {
                eprintln!(
                    "{kind} {name}: attempt {n} ended {} ({reason}); retrying",
                    seen.status
                );
                last_failure = reason;
            }
            _ => return Ok((name, Some(seen.status))),
        }
    }
    Err(Error::external(format!(
        "{kind} {base}: all {MAX_ATTEMPTS} attempts failed; the last: {last_failure}"
    ))
    .with_hint("fix the cause, then change the config, code or data (a new job name)"))
}

/// `1h02m03s`, `2m05s`, `9s`.
pub fn clock(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s:02}s"),
        _ => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// An AWS timestamp as a `SystemTime`.
pub fn system_time(t: &aws_smithy_types::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*t).ok()
}

/// Seconds from `start` to `end`, or to now while the job runs.
pub fn seconds_since(start: Option<SystemTime>, end: Option<SystemTime>) -> f64 {
    let end = end.unwrap_or_else(SystemTime::now);
    start
        .and_then(|s| end.duration_since(s).ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn seen(state: State, status: &str) -> Observation {
        Observation {
            state,
            status: status.into(),
            detail: String::new(),
            created: Some(SystemTime::now()),
            billable_seconds: 7200.0,
        }
    }

    #[tokio::test]
    async fn waits_through_running_and_reports_failure_reasons() {
        let calls = AtomicUsize::new(0);
        let done = wait(
            "job",
            Duration::from_millis(1),
            |_| None,
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok(if n < 2 {
                        seen(State::Running, "InProgress")
                    } else {
                        seen(State::Completed, "Completed")
                    })
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(done.state, State::Completed);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let err = wait(
            "job X",
            Duration::from_millis(1),
            |_| None,
            || async {
                Ok(seen(
                    State::Failed("AlgorithmError: bad csv".into()),
                    "Failed",
                ))
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(
            err.message.contains("AlgorithmError: bad csv"),
            "{}",
            err.message
        );
    }

    #[test]
    fn progress_shows_elapsed_and_cost() {
        let o = seen(State::Running, "InProgress");
        let line = progress_line("training job j", &o, "InProgress — Training", &|s| {
            Some(0.23 * s / 3600.0)
        });
        assert_eq!(
            line,
            "[0s] training job j: InProgress — Training (≈ $0.46 so far)"
        );
        let done = seen(State::Completed, "Completed");
        let line = progress_line("j", &done, "Completed", &|s| Some(0.23 * s / 3600.0));
        assert_eq!(line, "[0s] j: Completed (≈ $0.46)");
        assert_eq!(clock(3723), "1h02m03s");
        assert_eq!(clock(125), "2m05s");
    }
}
