//! Step reports: one structure, rendered as Markdown (PR comments, step summaries),
//! JSON (machines, later steps) and JUnit XML (CI test tabs).

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
}

/// What a step is, without its arguments: its name on the command line, in reports and
/// in the report files (`<step>.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepName {
    ValidateData,
    Train,
    Evaluate,
    ValidateModel,
    Compare,
    Promote,
    Deploy,
    Comment,
    Predict,
    Run,
}

impl StepName {
    /// The steps `run` chains, in order.
    pub const PIPELINE: [StepName; 6] = [
        StepName::ValidateData,
        StepName::Train,
        StepName::Evaluate,
        StepName::ValidateModel,
        StepName::Compare,
        StepName::Promote,
    ];

    /// Every step.
    pub const ALL: [StepName; 10] = [
        StepName::ValidateData,
        StepName::Train,
        StepName::Evaluate,
        StepName::ValidateModel,
        StepName::Compare,
        StepName::Promote,
        StepName::Deploy,
        StepName::Comment,
        StepName::Predict,
        StepName::Run,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            StepName::ValidateData => "validate-data",
            StepName::Train => "train",
            StepName::Evaluate => "evaluate",
            StepName::ValidateModel => "validate-model",
            StepName::Compare => "compare",
            StepName::Promote => "promote",
            StepName::Deploy => "deploy",
            StepName::Comment => "comment",
            StepName::Predict => "predict",
            StepName::Run => "run",
        }
    }
}

impl std::fmt::Display for StepName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Output format on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Md,
    Json,
    Junit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One check for JUnit: a test case, failed when `failure` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub name: String,
    pub failure: Option<String>,
}

/// The report of one step on one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub step: StepName,
    pub model: String,
    pub status: Status,
    /// One line: the outcome.
    pub title: String,
    /// Warnings and context, Markdown.
    pub notes: Vec<String>,
    pub tables: Vec<Table>,
    pub cases: Vec<Case>,
    /// The step's own result, for the JSON report and later steps.
    pub data: serde_json::Value,
    /// Places in the user's files that a finding is about, for CI annotations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
}

/// A finding at a place in a file (line numbers 1-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl Report {
    pub fn new(step: StepName, model: &str, status: Status, title: impl Into<String>) -> Report {
        Report {
            step,
            model: model.into(),
            status,
            title: title.into(),
            notes: vec![],
            tables: vec![],
            cases: vec![],
            data: serde_json::Value::Null,
            locations: vec![],
        }
    }

    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }

    pub fn markdown(&self) -> String {
        let icon = if self.passed() { "✅" } else { "❌" };
        let mut out = format!(
            "### {icon} `{}` · {}: {}\n",
            self.model, self.step, self.title
        );
        for note in &self.notes {
            let _ = write!(out, "\n{note}\n");
        }
        for table in &self.tables {
            out.push('\n');
            out.push_str(&markdown_table(table));
        }
        out
    }

    /// Writes `<dir>/<step>.md|json|xml`.
    pub fn write_files(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        write(&dir.join(format!("{}.md", self.step)), &self.markdown())?;
        write(
            &dir.join(format!("{}.json", self.step)),
            &json(std::slice::from_ref(self)),
        )?;
        write(
            &dir.join(format!("{}.xml", self.step)),
            &junit(std::slice::from_ref(self)),
        )
    }
}

/// Removes `<dir>/<step>.md|json|xml` where they exist: a step about to run takes its
/// earlier report away, so an error never leaves an older verdict standing.
pub fn remove_files(dir: &Path, step: StepName) -> Result<()> {
    for ext in ["md", "json", "xml"] {
        let path = dir.join(format!("{step}.{ext}"));
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::write(&path, e))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads back the JSON a step wrote, for the steps that follow it.
pub fn read_json(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    let mut reports: Vec<Report> = serde_json::from_str(&text)
        .map_err(|e| Error::input(format!("{}: not an mlgate report: {e}", path.display())))?;
    reports
        .pop()
        .ok_or_else(|| Error::input(format!("{}: empty report", path.display())))
}

fn write(path: &PathBuf, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::write(path, e))
}

/// At most `max` bytes, cut at a character boundary (an ellipsis ends what was cut).
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max.saturating_sub(1);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

/// Cells may hold `|` and newlines; both would break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown_table(table: &Table) -> String {
    let mut out = format!(
        "| {} |\n",
        table
            .header
            .iter()
            .map(|h| cell(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "|{}", "---|".repeat(table.header.len()));
    for row in &table.rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out
}

pub fn render(reports: &[Report], format: Format) -> String {
    match format {
        Format::Md => reports
            .iter()
            .map(Report::markdown)
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Json => json(reports),
        Format::Junit => junit(reports),
    }
}

pub fn json(reports: &[Report]) -> String {
    let mut s = serde_json::to_string_pretty(reports).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}

pub fn junit(reports: &[Report]) -> String {
    let tests: usize = reports.iter().map(|r| r.cases.len()).sum();
    let failures: usize = reports
        .iter()
        .flat_map(|r| &r.cases)
        .filter(|c| c.failure.is_some())
        .count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mlgate\" tests=\"{tests}\" failures=\"{failures}\">\n"
    );
    for r in reports {
        let f = r.cases.iter().filter(|c| c.failure.is_some()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\">",
            xml(&format!("mlgate.{}.{}", r.step, r.model)),
            r.cases.len()
        );
        for case in &r.cases {
            let name = xml(&case.name);
            let class = xml(&format!("{}.{}", r.model, r.step));
            match &case.failure {
                None => {
                    let _ = writeln!(out, "    <testcase classname=\"{class}\" name=\"{name}\"/>");
                }
                Some(msg) => {
                    let _ = writeln!(
                        out,
                        "    <testcase classname=\"{class}\" name=\"{name}\">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml(msg),
                        xml(msg)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || *c >= ' ')
        .fold(String::with_capacity(text.len()), |mut s, c| {
            match c {
                '&' => s.push_str("&amp;"),
                '<' => s.push_str("&lt;"),
                '>' => s.push_str("&gt;"),
                '"' => s.push_str("&quot;"),
                '\'' => s.push_str("&apos;"),
                c => s.push(c),
            }
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut r = Report::new(
            StepName::Compare,
            "churn",
            Status::Fail,
            "blocked by the gate",
        );
        r.tables.push(Table {
            header: vec!["metric".into(), "rule".into()],
            rows: vec![vec!["roc_auc".into(), "a | b".into()]],
        });
        r.cases.push(Case {
            name: "roc_auc".into(),
            failure: Some("regressed by 0.1 <&>".into()),
        });
        r.cases.push(Case {
            name: "log_loss".into(),
            failure: None,
        });
        r
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("ééé", 4), "é…");
        assert_eq!(truncate("abc", 3), "abc");
    }

    #[test]
    fn markdown_escapes_cells() {
        let md = sample().markdown();
        assert!(md.starts_with("### ❌ `churn` · compare: blocked by the gate"));
        assert!(md.contains("| roc_auc | a \\| b |"));
    }

    #[test]
    fn junit_counts_and_escapes() {
        let x = junit(&[sample()]);
        assert!(x.contains("tests=\"2\" failures=\"1\""));
        assert!(x.contains("regressed by 0.1 &lt;&amp;&gt;"));
    }

    #[test]
    fn json_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        sample().write_files(dir.path()).unwrap();
        assert_eq!(
            read_json(&dir.path().join("compare.json")).unwrap(),
            sample()
        );
    }
}
