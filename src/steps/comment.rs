//! `comment`: the pull-request journey's last step. Gathers the reports the other steps
//! wrote in `--out`, posts them as one sticky comment per model (updated in place, never
//! duplicated) and sets the verdict as a check run / commit status.

use super::compare::Comparison;
use super::{Ctx, PIPELINE};
use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::forge::{self, CommentStatus, Event, Forge, Sticky, Verdict};
use crate::report::StepName;
use crate::report::{read_json, Case, Report, Status};
use std::fmt::Write as _;

pub async fn comment(ctx: &Ctx, name: &str, _model: &ModelConfig) -> Result<Report> {
    let reports = gather(ctx, name)?;
    post(ctx.forge()?, &ctx.event, name, &reports).await
}

/// The reports of the pipeline's steps that ran for `name`, in pipeline order.
fn gather(ctx: &Ctx, name: &str) -> Result<Vec<Report>> {
    let dir = ctx.model_out(name);
    let reports: Vec<Report> = PIPELINE
        .iter()
        .map(|step| dir.join(format!("{step}.json")))
        .filter(|p| p.is_file())
        .map(|p| read_json(&p))
        .collect::<Result<_>>()?;
    if reports.is_empty() {
        return Err(Error::input(format!(
            "no reports for model `{name}` in {}",
            dir.display()
        ))
        .with_hint("run the other steps first, with the same --out"));
    }
    Ok(reports)
}

async fn post(forge: &dyn Forge, event: &Event, name: &str, reports: &[Report]) -> Result<Report> {
    let passed = reports.iter().all(Report::passed);
    let headline = headline(name, reports);
    let body = sticky_body(
        name,
        &headline,
        reports,
        event.run_url.as_deref(),
        forge.comment_limit(),
    );
    let mut report = Report::new(
        StepName::Comment,
        name,
        if passed { Status::Pass } else { Status::Fail },
        headline.clone(),
    );
    let fork = event.pull_request.as_ref().is_some_and(|pr| pr.fork);
    let pr = match (&event.pull_request, forge.name()) {
        (Some(pr), _) => Some(pr.number),
        (None, "local") => Some(0),
        (None, _) => None,
    };
    let mut data = serde_json::Map::new();
    match pr {
        Some(number) => {
            let sticky = Sticky {
                key: name.to_string(),
                marker: forge::sticky_marker(name),
                body: body.clone(),
            };
            match forge.upsert_comment(number, &sticky).await {
                Ok(outcome) => {
                    let done = match outcome.status {
                        CommentStatus::Created => "posted",
                        CommentStatus::Updated => "updated in place",
                        CommentStatus::Unchanged => "already up to date",
                    };
                    report
                        .notes
                        .push(format!("Report comment {done}: {}", outcome.location));
                    data.insert(
                        "comment".into(),
                        serde_json::to_value(&outcome).unwrap_or_default(),
                    );
                }
                Err(e) if fork => degrade(&mut report, &e, &body),
                Err(e) => return Err(e),
            }
        }
        None => report.notes.push(
            "No pull request in this run: no report comment; the verdict is set as a status."
                .into(),
        ),
    }
    let verdict = Verdict {
        name: format!("mlgate/{name}"),
        passed,
        title: headline,
        summary: body,
        details_url: event.run_url.clone(),
    };
    match event
        .status_sha()
        .or(Some("HEAD").filter(|_| forge.name() == "local"))
    {
        Some(sha) => match forge.set_status(sha, &verdict).await {
            Ok(where_) => {
                report.notes.push(format!("Verdict set as {where_}."));
                data.insert("status".into(), where_.into());
            }
            Err(e) if fork => degrade(&mut report, &e, ""),
            Err(e) => return Err(e),
        },
        None => report
            .notes
            .push("The CI did not say which commit this run is for: no status set.".into()),
    }
    report.cases.push(Case {
        name: "verdict".into(),
        failure: (!passed).then(|| "a step failed; see the report".to_string()),
    });
    report.data = serde_json::Value::Object(data);
    Ok(report)
}

/// A fork's pull request gets a read-only token: the report goes to the step summary
/// (this report's Markdown) and the step does not fail for it.
fn degrade(report: &mut Report, err: &Error, body: &str) {
    report.notes.push(format!(
        "Could not post to the pull request (from a fork, whose token is read-only): {}",
        err.message
    ));
    if !body.is_empty() {
        report.notes.push(body.to_string());
    }
}

/// One line: the verdict and the step that decided it.
fn headline(name: &str, reports: &[Report]) -> String {
    match reports.iter().find(|r| !r.passed()) {
        Some(failed) => format!("`{name}` failed at {}: {}", failed.step, failed.title),
        None => match reports.last() {
            Some(last) => format!("`{name}` passed {}: {}", last.step, last.title),
            None => format!("`{name}`: no report"),
        },
    }
}

/// The comment: marker, headline, the gate table and chart up front, every step's report
/// folded below. Folded details are dropped, then the rest cut, to stay under `limit`.
pub fn sticky_body(
    name: &str,
    headline: &str,
    reports: &[Report],
    run_url: Option<&str>,
    limit: usize,
) -> String {
    let passed = reports.iter().all(Report::passed);
    let icon = if passed { "✅" } else { "❌" };
    let mut head = format!(
        "{}\n## {icon} mlgate · {headline}\n",
        forge::sticky_marker(name)
    );
    if let Some(chart) = reports
        .iter()
        .find(|r| r.step == StepName::Compare)
        .and_then(chart)
    {
        head.push('\n');
        head.push_str(&chart);
    }
    let footer = match run_url {
        Some(url) => {
            format!("\n---\nFull reports (Markdown, JSON, JUnit): [this run's artifacts]({url}).\n")
        }
        None => "\n---\nFull reports: this run's `--out` folder.\n".to_string(),
    };
    let folded: Vec<String> = reports.iter().map(fold).collect();
    let full = format!("{head}\n{}{footer}", folded.concat());
    if full.chars().count() <= limit {
        return full;
    }
    // Keep each step's one-line outcome; the details live in the artifact.
    let mut short = head.clone();
    short.push('\n');
    for r in reports {
        let icon = if r.passed() { "✅" } else { "❌" };
        let _ = writeln!(short, "- {icon} **{}**: {}", r.step, r.title);
    }
    let note = "\n_Details are folded out of this comment to fit the forge's size limit; see the full reports._\n";
    let room = limit.saturating_sub(footer.chars().count() + note.chars().count());
    let short: String = short.chars().take(room).collect();
    format!("{short}{note}{footer}")
}

fn fold(report: &Report) -> String {
    let icon = if report.passed() { "✅" } else { "❌" };
    // The compare report (the gate table) stays open: it is what reviewers look at.
    let open = if report.step == StepName::Compare || !report.passed() {
        " open"
    } else {
        ""
    };
    format!(
        "<details{open}><summary>{icon} <b>{}</b>: {}</summary>\n\n{}\n</details>\n\n",
        report.step,
        html_escape(&report.title),
        report.markdown()
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Mermaid bar chart of production against candidate, per metric (rendered by both
/// GitHub and GitLab; nothing is uploaded anywhere).
pub fn chart(compare: &Report) -> Option<String> {
    let c: Comparison = serde_json::from_value(compare.data.clone()).ok()?;
    let rows: Vec<_> = c
        .verdicts
        .iter()
        .filter_map(|v| Some((v.metric.as_str(), v.production, v.candidate?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let labels: Vec<String> = rows.iter().map(|(m, _, _)| format!("\"{m}\"")).collect();
    let cand: Vec<String> = rows.iter().map(|(_, _, c)| format!("{c:.4}")).collect();
    let mut out = String::from(
        "```mermaid\nxychart-beta\n    title \"Candidate (bars) vs production (line)\"\n",
    );
    let _ = writeln!(out, "    x-axis [{}]", labels.join(", "));
    let _ = writeln!(out, "    bar [{}]", cand.join(", "));
    if rows.iter().all(|(_, p, _)| p.is_some()) {
        let prod: Vec<String> = rows
            .iter()
            .map(|(_, p, _)| format!("{:.4}", p.unwrap_or_default()))
            .collect();
        let _ = writeln!(out, "    line [{}]", prod.join(", "));
    }
    out.push_str("```\n");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(step: StepName, pass: bool, size: usize) -> Report {
        let mut r = Report::new(
            step,
            "churn",
            if pass { Status::Pass } else { Status::Fail },
            format!("{step} <done>"),
        );
        r.notes.push("x".repeat(size));
        r
    }

    #[test]
    fn body_has_the_marker_and_folds_details() {
        let reports = vec![
            report(StepName::ValidateData, true, 10),
            report(StepName::Compare, false, 10),
        ];
        let body = sticky_body("churn", "h", &reports, Some("https://ci/run/1"), 65_536);
        assert!(body.starts_with("<!-- mlgate:report model=churn -->"));
        assert!(
            body.contains("<details><summary>✅ <b>validate-data</b>: validate-data &lt;done&gt;")
        );
        assert!(body.contains("<details open><summary>❌ <b>compare</b>"));
        assert!(body.contains("https://ci/run/1"));
    }

    #[test]
    fn body_stays_under_the_limit() {
        let reports = vec![
            report(StepName::Train, true, 100_000),
            report(StepName::Compare, true, 100_000),
        ];
        let body = sticky_body("churn", "h", &reports, Some("https://ci/run/1"), 65_536);
        assert!(body.chars().count() <= 65_536, "{}", body.len());
        assert!(body.contains("- ✅ **train**"));
        assert!(body.contains("https://ci/run/1"));
        let tiny = sticky_body("churn", "h", &reports, None, 300);
        assert!(tiny.chars().count() <= 300);
    }
}
