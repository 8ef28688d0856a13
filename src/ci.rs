//! The CI contract: how a step talks to the CI system it runs in.
//!
//! A step publishes results in four ways, and each platform spells them
//! differently:
//!
//! | what            | GitHub Actions                         | GitLab CI                              | Local |
//! |-----------------|----------------------------------------|----------------------------------------|-------|
//! | outputs         | `$GITHUB_OUTPUT` (`k=v` / heredoc)     | dotenv file for `artifacts:reports:dotenv` | no-op |
//! | summary         | `$GITHUB_STEP_SUMMARY` (Markdown)      | no-op (the report artifact is the summary) | no-op |
//! | annotations     | `::error file=…::msg` commands         | plain `error: file:line:col: msg` lines | no-op |
//! | secret masking  | `::add-mask::`                         | no-op: GitLab masks only variables defined in its settings, never at run time | no-op |
//!
//! Every platform limit that would make the CI silently drop or reject what
//! we write (10 annotations per level, 1 MiB summaries, GitLab's 5 KB /
//! 20-variable dotenv) is enforced here, so the step degrades visibly
//! instead. Nothing here panics; every I/O failure is returned.
//!
//! Workflow commands go to the writer given at construction (stdout for
//! [`Ci::detect`]), so tests can capture them.

use crate::report::{self, Format, Report, StepName};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// GitHub shows at most this many annotations per level (error, warning,
/// notice) for one step and silently drops the rest.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;

/// GitHub refuses to upload a step summary larger than 1 MiB.
pub const SUMMARY_MAX_BYTES: u64 = 1024 * 1024;

/// GitLab rejects a dotenv report unless its size is strictly below this
/// (5 KB, the `dotenv_size` plan limit on every tier).
pub const DOTENV_MAX_BYTES: u64 = 5 * 1024;

/// GitLab rejects a dotenv report with more distinct variables than its
/// `dotenv_variables` plan limit. The lowest value still in use on any tier
/// is 20 (others allow 50–150), so staying within 20 is safe everywhere.
pub const DOTENV_MAX_VARIABLES: usize = 20;

/// Environment variable naming the dotenv file on GitLab (takes precedence
/// over [`Ci::set_dotenv_path`]).
pub const DOTENV_ENV: &str = "MLGATE_DOTENV";

/// Line appended when a step summary had to be cut at [`SUMMARY_MAX_BYTES`].
const SUMMARY_TRUNCATED_NOTE: &str = "\n> **Note:** this summary was truncated at GitHub's 1 MiB \
step-summary limit; the full report is in this step's report files.\n";

/// The CI system the process runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    GitHubActions,
    GitLabCi,
    Local,
}

impl Platform {
    /// `GITHUB_ACTIONS=true` ⇒ GitHub, else `GITLAB_CI=true` ⇒ GitLab, else
    /// Local. Both runners set these themselves, so users cannot forget them.
    pub fn from_vars(vars: &HashMap<String, String>) -> Platform {
        let is_true = |k: &str| vars.get(k).is_some_and(|v| v == "true");
        if is_true("GITHUB_ACTIONS") {
            Platform::GitHubActions
        } else if is_true("GITLAB_CI") {
            Platform::GitLabCi
        } else {
            Platform::Local
        }
    }
}

/// Severity of an [`Annotation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }

    fn index(self) -> usize {
        match self {
            Level::Error => 0,
            Level::Warning => 1,
            Level::Notice => 2,
        }
    }

    const ALL: [Level; 3] = [Level::Error, Level::Warning, Level::Notice];
}

/// A finding attached to a file position, shown inline on the PR by GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub title: Option<String>,
}

impl Annotation {
    /// An annotation without position or title; set the public fields for more.
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        Annotation {
            level,
            message: message.into(),
            file: None,
            line: None,
            column: None,
            title: None,
        }
    }
}

/// A value that must never reach a log. `Debug` and `Display` print `***`;
/// the value is only reachable through the explicit [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value without masking it; prefer [`Ci::secret_env`], which
    /// also tells the CI to mask it.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Named loudly so every use is easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The step's handle on its CI system. See the module docs for what each
/// method does on each platform.
///
/// Call [`Ci::finish`] once at the end of the step so capped annotations are
/// summarised; dropping a `Ci` does it on a best-effort basis.
pub struct Ci {
    platform: Platform,
    vars: HashMap<String, String>,
    out: Box<dyn Write + Send>,
    dotenv_path: Option<PathBuf>,
    /// Annotation commands written per level (GitHub only).
    sent: [usize; 3],
    /// The annotation that would take the last slot of its level; held back
    /// until we know whether that slot is needed for the overflow summary.
    held: [Option<Annotation>; 3],
    /// Annotations dropped per level, beyond `held`.
    dropped: [usize; 3],
    summary_truncated: bool,
    delimiter_seed: u64,
    delimiter_counter: u64,
}

impl fmt::Debug for Ci {
    // Deliberately omits `vars`: they may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ci")
            .field("platform", &self.platform)
            .field("dotenv_path", &self.dotenv_path)
            .finish_non_exhaustive()
    }
}

impl Ci {
    /// Reads the process environment and writes workflow commands to stdout.
    /// Variables whose name or value is not UTF-8 are ignored.
    pub fn detect() -> Ci {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Ci::from_env(vars, Box::new(io::stdout()))
    }

    /// Builds from an explicit environment and command writer (for tests).
    pub fn from_env(vars: HashMap<String, String>, out: Box<dyn Write + Send>) -> Ci {
        Ci {
            platform: Platform::from_vars(&vars),
            vars,
            out,
            dotenv_path: None,
            sent: [0; 3],
            held: [None, None, None],
            dropped: [0; 3],
            summary_truncated: false,
            delimiter_seed: delimiter_seed(),
            delimiter_counter: 0,
        }
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// True on GitHub Actions or GitLab CI.
    pub fn is_ci(&self) -> bool {
        self.platform != Platform::Local
    }

    /// A variable from the environment this `Ci` was built from; empty
    /// values count as unset, as CI systems often define unused ones empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Hands a step's reports to the CI: the Markdown as the step summary, `status`
    /// (`pass`/`fail`), `report_dir` and each trained candidate as outputs, every finding
    /// with a place in a file as an annotation. Failures here are returned for the
    /// caller to log: the step's own verdict stands.
    pub fn publish(&mut self, reports: &[Report], report_dir: &Path) -> Vec<io::Error> {
        self.set_dotenv_path(report_dir.join("mlgate.env"));
        // The report folder travels between jobs as an artifact: this step's outputs
        // replace an earlier step's rather than pile up behind them.
        let fresh = self.start_dotenv();
        let status = if reports.iter().all(Report::passed) {
            "pass"
        } else {
            "fail"
        };
        let markdown = report::render(reports, Format::Md);
        let mut results = vec![
            fresh,
            self.append_summary(&markdown),
            self.set_output("status", status),
            self.set_output("report_dir", &report_dir.display().to_string()),
            self.set_output("models", &models_output(reports).to_string()),
        ];
        for r in reports {
            if r.step == StepName::Train {
                if let Some(v) = r.data.get("version").and_then(|v| v.as_str()) {
                    results.push(self.set_output(&format!("{}_candidate", r.model), v));
                }
            }
            for loc in &r.locations {
                let mut a = Annotation::new(Level::Error, loc.message.clone());
                a.file = Some(loc.file.clone());
                a.line = loc.line;
                a.title = Some(format!("mlgate {}: {}", r.step, r.model));
                results.push(self.annotate(a));
            }
        }
        results.push(self.finish());
        results.into_iter().filter_map(Result::err).collect()
    }

    /// Reports an error that stopped the step: its first line as an error annotation,
    /// and `status` `error` so a workflow reading the outputs sees why there are no others.
    pub fn publish_error(&mut self, message: &str) -> Vec<io::Error> {
        let first_line = message.lines().next().unwrap_or_default().to_string();
        [
            self.start_dotenv(),
            self.set_output("status", "error"),
            self.set_output("models", "{}"),
            self.annotate(placed(first_line)),
            self.finish(),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect()
    }

    /// Empties this run's GitLab dotenv file (no-op elsewhere).
    fn start_dotenv(&mut self) -> io::Result<()> {
        if self.platform != Platform::GitLabCi {
            return Ok(());
        }
        let Some(path) = self.dotenv_file() else {
            return Ok(());
        };
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The dotenv file: `$MLGATE_DOTENV`, else the one set for this run.
    fn dotenv_file(&self) -> Option<PathBuf> {
        self.var(DOTENV_ENV)
            .map(PathBuf::from)
            .or_else(|| self.dotenv_path.clone())
    }

    /// The GitLab dotenv file to use when `$MLGATE_DOTENV` is not set. The
    /// job must list the same path under `artifacts:reports:dotenv`.
    pub fn set_dotenv_path(&mut self, path: PathBuf) {
        self.dotenv_path = Some(path);
    }

    /// Publishes a step output.
    ///
    /// - GitHub: appended to `$GITHUB_OUTPUT`; values containing a newline
    ///   or carriage return use the heredoc form with a delimiter that does
    ///   not occur in the value.
    /// - GitLab: `KEY=VALUE` appended to the dotenv file. The key is
    ///   uppercased with `-` turned into `_` and prefixed `MLGATE_`. Fails with
    ///   [`io::ErrorKind::InvalidInput`] (nothing written) when the value is
    ///   multi-line (dotenv cannot carry it), the key has other characters
    ///   outside `[A-Za-z0-9_]`, no dotenv path is configured, or the entry
    ///   would exceed GitLab's size or variable-count limit — so the caller
    ///   can report it and carry on, and GitLab never rejects the file.
    ///   GitLab strips surrounding whitespace from values.
    /// - Local: no-op.
    pub fn set_output(&mut self, key: &str, value: &str) -> io::Result<()> {
        match self.platform {
            Platform::GitHubActions => self.github_output(key, value),
            Platform::GitLabCi => self.gitlab_output(key, value),
            Platform::Local => Ok(()),
        }
    }

    fn github_output(&mut self, key: &str, value: &str) -> io::Result<()> {
        // The runner splits a line at the first `=` or `<<`, whichever comes
        // first, so a key containing either would be misparsed.
        if key.is_empty() || key.contains(['=', '\n', '\r']) || key.contains("<<") {
            return Err(invalid(format!(
                "output name {key:?} must be non-empty and contain no '=', '<<' or newline"
            )));
        }
        let path = self.required_path("GITHUB_OUTPUT")?;
        let entry = if value.contains(['\n', '\r']) {
            let delim = self.heredoc_delimiter(value);
            format!("{key}<<{delim}\n{value}\n{delim}\n")
        } else {
            format!("{key}={value}\n")
        };
        append(&path, entry.as_bytes())
    }

    /// `ghadelimiter_<seed><counter>`, retried until absent from `value`.
    /// Candidates are distinct and equally long, and a value of n bytes
    /// contains at most n distinct substrings of one length, so at most
    /// n + 1 candidates are tried. Safety rests on that check, not on the
    /// seed being unguessable.
    fn heredoc_delimiter(&mut self, value: &str) -> String {
        loop {
            let candidate = format!(
                "ghadelimiter_{:016x}{:016x}",
                self.delimiter_seed, self.delimiter_counter
            );
            self.delimiter_counter = self.delimiter_counter.wrapping_add(1);
            if !value.contains(&candidate) {
                return candidate;
            }
        }
    }

    fn gitlab_output(&mut self, key: &str, value: &str) -> io::Result<()> {
        let name = dotenv_name(key)?;
        if value.contains(['\n', '\r']) {
            return Err(invalid(format!(
                "output {name} skipped: GitLab dotenv values must be single-line"
            )));
        }
        let path = self.dotenv_file().ok_or_else(|| {
            invalid(format!(
                "output {name} skipped: no dotenv file (set {DOTENV_ENV} and list it under artifacts:reports:dotenv)"
            ))
        })?;
        let existing = match fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        // A file from elsewhere may lack its final newline; GitLab would
        // then read our entry as part of its last value.
        let sep = if existing.is_empty() || existing.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let entry = format!("{sep}{name}={value}\n");
        let new_size = existing.len() as u64 + entry.len() as u64;
        if new_size >= DOTENV_MAX_BYTES {
            return Err(invalid(format!(
                "output {name} skipped: the dotenv file would reach {new_size} bytes; GitLab accepts less than {DOTENV_MAX_BYTES}"
            )));
        }
        // GitLab keeps the last value of a repeated key, so only distinct
        // keys count against the limit.
        let mut keys: HashSet<&str> = existing
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
            .collect();
        keys.insert(&name);
        if keys.len() > DOTENV_MAX_VARIABLES {
            return Err(invalid(format!(
                "output {name} skipped: GitLab accepts at most {DOTENV_MAX_VARIABLES} dotenv variables"
            )));
        }
        append(&path, entry.as_bytes())
    }

    /// Appends Markdown to the GitHub step summary (no-op elsewhere).
    ///
    /// GitHub drops a summary over [`SUMMARY_MAX_BYTES`] entirely, so the
    /// text is cut (at a line boundary when possible, never inside a UTF-8
    /// character) to leave room for a note pointing at the report files;
    /// later appends are then ignored.
    pub fn append_summary(&mut self, markdown: &str) -> io::Result<()> {
        if self.platform != Platform::GitHubActions || self.summary_truncated {
            return Ok(());
        }
        let path = self.required_path("GITHUB_STEP_SUMMARY")?;
        let current = match fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        let room = SUMMARY_MAX_BYTES.saturating_sub(current);
        if markdown.len() as u64 <= room {
            return append(&path, markdown.as_bytes());
        }
        self.summary_truncated = true;
        // Reserve the note plus one byte for a newline before it.
        let reserve = SUMMARY_TRUNCATED_NOTE.len() as u64 + 1;
        if room < reserve {
            return Ok(()); // not even the note fits; keep the file uploadable
        }
        let mut cut = usize::try_from(room - reserve)
            .unwrap_or(usize::MAX)
            .min(markdown.len());
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(nl) = markdown[..cut].rfind('\n') {
            cut = nl + 1;
        }
        let mut text = String::with_capacity(cut + reserve as usize);
        text.push_str(&markdown[..cut]);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(SUMMARY_TRUNCATED_NOTE);
        append(&path, text.as_bytes())
    }

    /// Reports a finding.
    ///
    /// - GitHub: a workflow command. At most [`ANNOTATIONS_PER_LEVEL`] are
    ///   written per level; the last slot is held back so that, if more
    ///   arrive, [`Ci::finish`] can use it for "…and N more errors" at the
    ///   same level instead of GitHub dropping the excess silently.
    /// - GitLab: a plain `error: file:line:col: message` log line.
    /// - Local: nothing; the step report carries the findings.
    pub fn annotate(&mut self, a: Annotation) -> io::Result<()> {
        match self.platform {
            Platform::GitHubActions => {
                let i = a.level.index();
                if self.sent[i] + 1 < ANNOTATIONS_PER_LEVEL {
                    self.sent[i] += 1;
                    let line = github_annotation(&a);
                    self.emit(&line)
                } else {
                    if self.held[i].is_none() && self.dropped[i] == 0 {
                        self.held[i] = Some(a);
                    } else {
                        self.dropped[i] += 1;
                    }
                    Ok(())
                }
            }
            Platform::GitLabCi => {
                let mut line = format!("{}: ", a.level.name());
                if let Some(file) = &a.file {
                    line.push_str(file);
                    if let Some(l) = a.line {
                        line.push_str(&format!(":{l}"));
                        if let Some(c) = a.column {
                            line.push_str(&format!(":{c}"));
                        }
                    }
                    line.push_str(": ");
                }
                if let Some(title) = &a.title {
                    line.push_str(title);
                    line.push_str(": ");
                }
                line.push_str(&a.message);
                self.emit(&line)
            }
            Platform::Local => Ok(()),
        }
    }

    /// Flushes capped annotations: per level, either the held last one or
    /// one "…and N more" line. Call once when the step ends.
    pub fn finish(&mut self) -> io::Result<()> {
        for level in Level::ALL {
            let i = level.index();
            let held = self.held[i].take();
            let dropped = std::mem::take(&mut self.dropped[i]);
            if self.sent[i] >= ANNOTATIONS_PER_LEVEL {
                continue; // GitHub would drop anything more at this level
            }
            let line = if dropped > 0 {
                let n = dropped + usize::from(held.is_some());
                format!(
                    "::{}::…and {n} more {}s; see the report",
                    level.name(),
                    level.name()
                )
            } else if let Some(a) = held {
                github_annotation(&a)
            } else {
                continue;
            };
            self.sent[i] += 1;
            self.emit(&line)?;
        }
        self.out.flush()
    }

    /// Asks the CI to hide `secret` in all later log output. GitHub masks
    /// line by line, so each line of a multi-line secret is masked
    /// separately; blank lines are skipped (masking them would blank the
    /// log). GitLab and Local: nothing (GitLab cannot mask at run time).
    pub fn mask(&mut self, secret: &str) -> io::Result<()> {
        if self.platform != Platform::GitHubActions {
            return Ok(());
        }
        for line in secret.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let cmd = format!("::add-mask::{}", escape_data(line));
            self.emit(&cmd)?;
        }
        Ok(())
    }

    /// Reads a secret from the environment, masks it, and returns it; an
    /// unset or empty variable gives `None`. Errors if masking could not be
    /// written, so an unmasked secret is never handed out.
    pub fn secret_env(&mut self, name: &str) -> io::Result<Option<Secret>> {
        let Some(value) = self.var(name).map(str::to_owned) else {
            return Ok(None);
        };
        self.mask(&value)?;
        Ok(Some(Secret(value)))
    }

    /// Opens a collapsible log section: `::group::` on GitHub, a collapsed
    /// `section_start` on GitLab (`name` is its id, reduced to
    /// `[A-Za-z0-9_.-]`). Nothing locally. Close with [`Ci::group_end`].
    pub fn group_start(&mut self, name: &str, title: &str) -> io::Result<()> {
        match self.platform {
            Platform::GitHubActions => {
                let line = format!("::group::{}", escape_data(title));
                self.emit(&line)
            }
            Platform::GitLabCi => {
                let line = format!(
                    "\x1b[0Ksection_start:{}:{}[collapsed=true]\r\x1b[0K{}",
                    unix_now(),
                    section_name(name),
                    title.replace(['\n', '\r'], " ")
                );
                self.emit(&line)
            }
            Platform::Local => Ok(()),
        }
    }

    /// Closes the section opened by [`Ci::group_start`] with the same `name`.
    pub fn group_end(&mut self, name: &str) -> io::Result<()> {
        match self.platform {
            Platform::GitHubActions => self.emit("::endgroup::"),
            Platform::GitLabCi => {
                let line = format!(
                    "\x1b[0Ksection_end:{}:{}\r\x1b[0K",
                    unix_now(),
                    section_name(name)
                );
                self.emit(&line)
            }
            Platform::Local => Ok(()),
        }
    }

    fn emit(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn required_path(&self, var: &str) -> io::Result<PathBuf> {
        self.var(var).map(PathBuf::from).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("${var} is not set; is this running inside a GitHub Actions step?"),
            )
        })
    }
}

impl Drop for Ci {
    fn drop(&mut self) {
        // Best effort: a drop cannot report errors, and finish() clears its
        // state, so an explicit earlier call makes this a no-op.
        let _ = self.finish();
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// An error whose message starts `FILE:LINE:COL: ` (config errors do) is annotated on
/// that place, so GitHub shows it on the file.
fn placed(message: String) -> Annotation {
    let mut parts = message.splitn(4, ':');
    let (Some(file), Some(line), Some(column), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Annotation::new(Level::Error, message);
    };
    match (line.parse(), column.parse()) {
        (Ok(line), Ok(column)) if !file.contains(' ') => Annotation {
            file: Some(file.to_string()),
            line: Some(line),
            column: Some(column),
            ..Annotation::new(Level::Error, rest.trim_start())
        },
        _ => Annotation::new(Level::Error, message),
    }
}

fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// Per-model values in one output of fixed name (a workflow declares its outputs up
/// front): `{"<model>": {"status": "pass", "candidate": "<id>"}}`, the model failing if
/// any of its reports failed, `candidate` where `train` stored one.
fn models_output(reports: &[Report]) -> serde_json::Value {
    let mut models = serde_json::Map::new();
    for r in reports {
        let entry = models
            .entry(r.model.clone())
            .or_insert_with(|| serde_json::json!({"status": "pass"}));
        if !r.passed() {
            entry["status"] = "fail".into();
        }
        if r.step == StepName::Train {
            if let Some(v) = r.data.get("version") {
                entry["candidate"] = v.clone();
            }
        }
    }
    models.into()
}

/// GitLab variable names are `[A-Za-z0-9_]+`; we uppercase, map `-` to `_`
/// and prefix `MLGATE_` so `model-uri` becomes `MLGATE_MODEL_URI` (a dotenv
/// report's variables reach every later job, where a bare `STATUS` would
/// clash), and refuse anything else rather than guess.
fn dotenv_name(key: &str) -> io::Result<String> {
    let name: String = key
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(format!(
            "output {key:?} skipped: GitLab variable names may contain only letters, digits, '_' and '-'"
        )));
    }
    Ok(format!("MLGATE_{name}"))
}

/// GitHub's escaping for a command's message.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping for a command property value (`file=`, `title=`, …).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn github_annotation(a: &Annotation) -> String {
    let mut props = Vec::new();
    if let Some(f) = &a.file {
        props.push(format!("file={}", escape_property(f)));
    }
    if let Some(l) = a.line {
        props.push(format!("line={l}"));
    }
    if let Some(c) = a.column {
        props.push(format!("col={c}"));
    }
    if let Some(t) = &a.title {
        props.push(format!("title={}", escape_property(t)));
    }
    let sep = if props.is_empty() { "" } else { " " };
    format!(
        "::{}{sep}{}::{}",
        a.level.name(),
        props.join(","),
        escape_data(&a.message)
    )
}

/// GitLab section ids allow `[A-Za-z0-9_.-]`; anything else becomes `_`.
fn section_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "section".to_owned()
    } else {
        s
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Per-process variation for heredoc delimiters (FNV-1a of pid and time),
/// so they look like GitHub's own rather than a fixed string.
fn delimiter_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(20);
    bytes.extend_from_slice(&std::process::id().to_le_bytes());
    bytes.extend_from_slice(&nanos.to_le_bytes());
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A cloneable in-memory writer so tests can read what `Ci` emitted.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ci(pairs: &[(&str, &str)]) -> (Ci, Buf) {
        let buf = Buf::default();
        (Ci::from_env(vars(pairs), Box::new(buf.clone())), buf)
    }

    fn github(dir: &Path, extra: &[(&str, &str)]) -> (Ci, Buf) {
        let out = dir.join("output").to_string_lossy().into_owned();
        let sum = dir.join("summary").to_string_lossy().into_owned();
        let mut pairs = vec![
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", out.as_str()),
            ("GITHUB_STEP_SUMMARY", sum.as_str()),
        ];
        pairs.extend_from_slice(extra);
        ci(&pairs)
    }

    fn gitlab(dir: &Path) -> (Ci, Buf, PathBuf) {
        let path = dir.join("mlgate.env");
        let (mut c, buf) = ci(&[("GITLAB_CI", "true")]);
        c.set_dotenv_path(path.clone());
        (c, buf, path)
    }

    #[test]
    fn detects_platform() {
        assert_eq!(
            ci(&[("GITHUB_ACTIONS", "true")]).0.platform(),
            Platform::GitHubActions
        );
        assert_eq!(
            ci(&[("GITLAB_CI", "true")]).0.platform(),
            Platform::GitLabCi
        );
        assert_eq!(ci(&[("GITLAB_CI", "1")]).0.platform(), Platform::Local);
        let (local, _) = ci(&[]);
        assert_eq!(local.platform(), Platform::Local);
        assert!(!local.is_ci());
    }

    #[test]
    fn github_single_and_multiline_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        c.set_output("model_uri", "s3://b/m=1").unwrap();
        c.set_output("report", "line1\nline2\n").unwrap();
        let text = fs::read_to_string(dir.path().join("output")).unwrap();
        let mut lines = text.split('\n');
        assert_eq!(lines.next(), Some("model_uri=s3://b/m=1"));
        let head = lines.next().unwrap();
        let delim = head.strip_prefix("report<<").unwrap();
        assert!(delim.starts_with("ghadelimiter_"));
        assert_eq!(
            text.split_once(&format!("{head}\n")).unwrap().1,
            format!("line1\nline2\n\n{delim}\n")
        );
    }

    #[test]
    fn github_heredoc_delimiter_never_in_value() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        c.delimiter_seed = 0xfeed;
        // A hostile value containing the first five candidates.
        let mut value = String::from("x\n");
        for n in 0..5u64 {
            value.push_str(&format!("ghadelimiter_{:016x}{n:016x}\n", 0xfeed));
        }
        c.set_output("v", &value).unwrap();
        let text = fs::read_to_string(dir.path().join("output")).unwrap();
        let delim = text.lines().next().unwrap().strip_prefix("v<<").unwrap();
        assert_eq!(delim, format!("ghadelimiter_{:016x}{:016x}", 0xfeed, 5));
        assert!(!value.contains(delim));
        assert_eq!(text, format!("v<<{delim}\n{value}\n{delim}\n"));
        // A value that is only a prefix of candidates still gets one.
        let d = c.heredoc_delimiter("ghadelimiter_");
        assert!(!"ghadelimiter_".contains(&d));
    }

    #[test]
    fn github_rejects_ambiguous_output_names() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        for bad in ["", "a=b", "a<<b", "a\nb"] {
            let e = c.set_output(bad, "v").unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        }
        assert!(!dir.path().join("output").exists());
    }

    #[test]
    fn github_missing_output_file_is_an_error() {
        let (mut c, _) = ci(&[("GITHUB_ACTIONS", "true")]);
        assert_eq!(
            c.set_output("k", "v").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn gitlab_dotenv_normalises_names() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _, path) = gitlab(dir.path());
        c.set_output("model-uri", "s3://b/m").unwrap();
        c.set_output("Gate_passed", "true").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "MLGATE_MODEL_URI=s3://b/m\nMLGATE_GATE_PASSED=true\n"
        );
        let e = c.set_output("bad.name", "x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        let e = c.set_output("multi", "a\nb").unwrap_err();
        assert!(e.to_string().contains("single-line"));
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
    }

    #[test]
    fn gitlab_env_var_overrides_dotenv_path() {
        let dir = tempfile::tempdir().unwrap();
        let env_path = dir.path().join("from-env.env");
        let p = env_path.to_string_lossy().into_owned();
        let (mut c, _) = ci(&[("GITLAB_CI", "true"), (DOTENV_ENV, p.as_str())]);
        c.set_dotenv_path(dir.path().join("other.env"));
        c.set_output("k", "v").unwrap();
        assert_eq!(fs::read_to_string(&env_path).unwrap(), "MLGATE_K=v\n");
        assert!(!dir.path().join("other.env").exists());
        let (mut none, _) = ci(&[("GITLAB_CI", "true")]);
        assert!(none.set_output("k", "v").is_err());
    }

    #[test]
    fn gitlab_dotenv_variable_limit() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _, path) = gitlab(dir.path());
        for i in 0..DOTENV_MAX_VARIABLES {
            c.set_output(&format!("v{i}"), "1").unwrap();
        }
        // Re-setting an existing key does not add a variable.
        c.set_output("v0", "2").unwrap();
        let e = c.set_output("one_too_many", "1").unwrap_err();
        assert!(e.to_string().contains("at most 20"));
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("MLGATE_ONE_TOO_MANY"));
        assert_eq!(text.lines().count(), DOTENV_MAX_VARIABLES + 1);
    }

    #[test]
    fn gitlab_dotenv_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _, path) = gitlab(dir.path());
        let big = "x".repeat(4000);
        c.set_output("a", &big).unwrap();
        let e = c.set_output("b", &"y".repeat(1200)).unwrap_err();
        assert!(e.to_string().contains("less than 5120"));
        // Exactly filling to one byte under the limit is accepted.
        let used = fs::metadata(&path).unwrap().len();
        let fill = (DOTENV_MAX_BYTES - 1 - used) as usize - "MLGATE_B=\n".len();
        c.set_output("b", &"y".repeat(fill)).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), DOTENV_MAX_BYTES - 1);
        assert!(c.set_output("c", "").is_err());
    }

    #[test]
    fn gitlab_dotenv_appends_after_foreign_unterminated_line() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _, path) = gitlab(dir.path());
        fs::write(&path, "OTHER=1").unwrap();
        c.set_output("k", "v").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "OTHER=1\nMLGATE_K=v\n");
    }

    #[test]
    fn an_error_at_a_place_is_annotated_there() {
        let a = placed("bad.yaml:5:7: `models.x`: unknown key".into());
        assert_eq!(
            (a.file.as_deref(), a.line, a.column, a.message.as_str()),
            (
                Some("bad.yaml"),
                Some(5),
                Some(7),
                "`models.x`: unknown key"
            )
        );
        let b = placed("no such file: a:b".into());
        assert_eq!((b.file, b.message.as_str()), (None, "no such file: a:b"));
    }

    #[test]
    fn local_is_silent() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, buf) = ci(&[]);
        c.set_dotenv_path(dir.path().join("x.env"));
        c.set_output("k", "v").unwrap();
        c.append_summary("# hi").unwrap();
        c.annotate(Annotation::new(Level::Error, "boom")).unwrap();
        c.mask("secret").unwrap();
        c.group_start("g", "Group").unwrap();
        c.group_end("g").unwrap();
        c.finish().unwrap();
        assert_eq!(buf.text(), "");
        assert!(!dir.path().join("x.env").exists());
    }

    #[test]
    fn summary_appends() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        c.append_summary("# Gate\n").unwrap();
        c.append_summary("passed\n").unwrap();
        assert_eq!(
            fs::read_to_string(dir.path().join("summary")).unwrap(),
            "# Gate\npassed\n"
        );
    }

    #[test]
    fn summary_capped_at_one_mib_with_prefilled_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary");
        let prefill = SUMMARY_MAX_BYTES as usize - 1000;
        fs::write(&path, "p".repeat(prefill)).unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        // Lines of multibyte characters so a byte cut could split one.
        let line = format!("{}\n", "é".repeat(49)); // 99 bytes
        let md = line.repeat(50);
        c.append_summary(&md).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert!(bytes.len() as u64 <= SUMMARY_MAX_BYTES);
        let text = String::from_utf8(bytes).unwrap();
        let added = &text[prefill..];
        assert!(added.ends_with(SUMMARY_TRUNCATED_NOTE));
        let kept = &added[..added.len() - SUMMARY_TRUNCATED_NOTE.len()];
        assert!(kept.ends_with('\n'), "cut at a line boundary");
        assert!(kept.lines().all(|l| l == line.trim_end()));
        assert!(!kept.is_empty());
        // Later appends are ignored once truncated.
        c.append_summary("more").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn summary_cut_on_char_boundary_without_newlines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary");
        let prefill = SUMMARY_MAX_BYTES as usize - 500;
        fs::write(&path, "p".repeat(prefill)).unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        c.append_summary(&"€".repeat(1000)).unwrap();
        let bytes = fs::read(&path).unwrap();
        assert!(bytes.len() as u64 <= SUMMARY_MAX_BYTES);
        let text = String::from_utf8(bytes).expect("valid UTF-8 after the cut");
        assert!(text.ends_with(SUMMARY_TRUNCATED_NOTE));
        assert!(text[prefill..].starts_with('€'));
    }

    #[test]
    fn summary_full_file_gets_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary");
        fs::write(&path, "p".repeat(SUMMARY_MAX_BYTES as usize - 3)).unwrap();
        let (mut c, _) = github(dir.path(), &[]);
        c.append_summary("a long line that cannot fit").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), SUMMARY_MAX_BYTES - 3);
    }

    #[test]
    fn annotation_escaping() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, buf) = github(dir.path(), &[]);
        c.annotate(Annotation {
            level: Level::Error,
            message: "100% bad\r\nnext: a,b".into(),
            file: Some("data/a,b:c.csv".into()),
            line: Some(3),
            column: Some(7),
            title: Some("schema: 50%, new\ncol".into()),
        })
        .unwrap();
        c.annotate(Annotation::new(Level::Notice, "plain")).unwrap();
        assert_eq!(
            buf.text(),
            "::error file=data/a%2Cb%3Ac.csv,line=3,col=7,title=schema%3A 50%25%2C new%0Acol\
             ::100%25 bad%0D%0Anext: a,b\n::notice::plain\n"
        );
    }

    #[test]
    fn annotations_capped_per_level_with_overflow_summary() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, buf) = github(dir.path(), &[]);
        for i in 0..47 {
            c.annotate(Annotation::new(Level::Error, format!("e{i}")))
                .unwrap();
        }
        for i in 0..10 {
            c.annotate(Annotation::new(Level::Warning, format!("w{i}")))
                .unwrap();
        }
        for i in 0..3 {
            c.annotate(Annotation::new(Level::Notice, format!("n{i}")))
                .unwrap();
        }
        c.finish().unwrap();
        let text = buf.text();
        let count = |p: &str| text.lines().filter(|l| l.starts_with(p)).count();
        assert_eq!(count("::error"), 10);
        assert_eq!(count("::warning"), 10);
        assert_eq!(count("::notice"), 3);
        assert!(text.contains("::error::e8\n"));
        assert!(!text.contains("::error::e9\n"));
        assert!(text.contains("::error::…and 38 more errors; see the report\n"));
        // Exactly 10 warnings: the held 10th is shown, no summary.
        assert!(text.contains("::warning::w9\n"));
        assert!(!text.contains("more warnings"));
        // finish() is idempotent; Drop adds nothing more.
        c.finish().unwrap();
        drop(c);
        assert_eq!(buf.text(), text);
    }

    #[test]
    fn drop_flushes_held_annotation() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, buf) = github(dir.path(), &[]);
        for i in 0..12 {
            c.annotate(Annotation::new(Level::Warning, format!("w{i}")))
                .unwrap();
        }
        drop(c);
        assert!(buf
            .text()
            .ends_with("::warning::…and 3 more warnings; see the report\n"));
    }

    #[test]
    fn gitlab_annotations_are_plain_lines() {
        let (mut c, buf) = ci(&[("GITLAB_CI", "true")]);
        let mut a = Annotation::new(Level::Error, "missing column");
        a.file = Some("data/train.csv".into());
        a.line = Some(1);
        a.column = Some(4);
        c.annotate(a).unwrap();
        c.annotate(Annotation::new(Level::Warning, "drift"))
            .unwrap();
        for _ in 0..20 {
            c.annotate(Annotation::new(Level::Notice, "n")).unwrap();
        }
        c.finish().unwrap();
        let text = buf.text();
        assert!(text.starts_with("error: data/train.csv:1:4: missing column\nwarning: drift\n"));
        assert_eq!(text.lines().count(), 22, "no cap on GitLab");
    }

    #[test]
    fn masks_each_line_of_multiline_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, buf) = github(dir.path(), &[]);
        c.mask("-----BEGIN KEY-----\r\nab%cd\n\n   \nend").unwrap();
        c.mask("").unwrap();
        assert_eq!(
            buf.text(),
            "::add-mask::-----BEGIN KEY-----\n::add-mask::ab%25cd\n::add-mask::end\n"
        );
        let (mut gl, gl_buf) = ci(&[("GITLAB_CI", "true")]);
        gl.mask("secret").unwrap();
        assert_eq!(gl_buf.text(), "");
    }

    #[test]
    fn secret_env_masks_and_hides() {
        let dir = tempfile::tempdir().unwrap();
        let (mut c, buf) = github(dir.path(), &[("TOKEN", "hunter2"), ("EMPTY", "")]);
        let s = c.secret_env("TOKEN").unwrap().unwrap();
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(buf.text(), "::add-mask::hunter2\n");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert!(!format!("{s:#?}").contains("hunter2"));
        assert!(c.secret_env("EMPTY").unwrap().is_none());
        assert!(c.secret_env("UNSET").unwrap().is_none());
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn groups() {
        let (mut gh, gh_buf) = ci(&[("GITHUB_ACTIONS", "true")]);
        gh.group_start("train", "Training 50%").unwrap();
        gh.group_end("train").unwrap();
        assert_eq!(gh_buf.text(), "::group::Training 50%25\n::endgroup::\n");
        let (mut gl, gl_buf) = ci(&[("GITLAB_CI", "true")]);
        gl.group_start("train model!", "Training").unwrap();
        gl.group_end("train model!").unwrap();
        let text = gl_buf.text();
        let mut lines = text.lines();
        let start = lines.next().unwrap();
        assert!(start.starts_with("\x1b[0Ksection_start:"));
        assert!(start.ends_with(":train_model_[collapsed=true]\r\x1b[0KTraining"));
        let end = lines.next().unwrap();
        assert!(end.starts_with("\x1b[0Ksection_end:"));
        assert!(end.ends_with(":train_model_\r\x1b[0K"));
    }
}
