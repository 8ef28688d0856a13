//! The `mlgate` command line: parses arguments, builds the context from the CI
//! environment, calls the engine's one entry point, prints and publishes the reports and
//! maps the outcome to the step contract's exit code. No step logic lives here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use mlgate::ci::Ci;
use mlgate::config::{Project, Task};
use mlgate::report::{self, Format, Report};
use mlgate::steps::{self, InitOptions, PredictBackend, PredictOptions, Selection, Step};
use mlgate::{Ctx, Error, Result};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0  ok: the step passed
  1  a validation or the gate failed
  2  usage, config or input error
  3  an external service or tool failed (git, a store, a forge)";

#[derive(Parser)]
#[command(name = "mlgate", version, about = "GitOps for machine-learning models: validate, train, gate and promote through pull requests", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// More log output on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

/// Flags every step shares.
#[derive(Args, Clone)]
struct Common {
    /// The project config.
    #[arg(long, short, default_value = "mlgate.yaml", env = "MLGATE_CONFIG")]
    config: PathBuf,
    /// Act on this model only (default: every model in the config).
    #[arg(long, short)]
    model: Option<String>,
    /// Format of the report printed on stdout (all three are written to --out).
    #[arg(long, value_enum, default_value = "md")]
    format: FormatArg,
    /// Folder for reports and step state (default: .mlgate/reports beside the config).
    #[arg(long, env = "MLGATE_OUT")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Check training and evaluation data against the model's schema.
    #[command(after_help = EXIT_CODES)]
    ValidateData(Common),
    /// Train a candidate version and store it (content-addressed, write-once).
    #[command(after_help = EXIT_CODES)]
    Train(Common),
    /// Score the candidate on the evaluation data (or --data).
    #[command(after_help = EXIT_CODES)]
    Evaluate {
        #[command(flatten)]
        common: Common,
        /// A stored version id instead of the last trained candidate.
        #[arg(long)]
        version: Option<String>,
        /// A CSV file to evaluate on instead of the model's evaluation data.
        #[arg(long)]
        data: Option<String>,
    },
    /// Check the candidate loads and predicts sensibly.
    #[command(after_help = EXIT_CODES)]
    ValidateModel {
        #[command(flatten)]
        common: Common,
        /// A stored version id instead of the last trained candidate.
        #[arg(long)]
        version: Option<String>,
    },
    /// Compare the candidate with production under the model's gate.
    #[command(after_help = EXIT_CODES)]
    Compare {
        #[command(flatten)]
        common: Common,
        /// A stored version id to compare instead of the last trained candidate.
        #[arg(long)]
        version: Option<String>,
    },
    /// Propose a candidate that passed the gate: create or update its promotion branch.
    #[command(after_help = EXIT_CODES)]
    Promote(Common),
    /// After a merge: publish the production pointer to the store and tag the deployment.
    #[command(after_help = EXIT_CODES)]
    Deploy(Common),
    /// Post the reports in --out as one sticky comment per model on the pull request, and
    /// the verdict as a check run / commit status (see docs/forges.md).
    #[command(after_help = EXIT_CODES)]
    Comment(Common),
    /// Score a CSV file with the production version (or --version).
    #[command(after_help = EXIT_CODES)]
    Predict {
        #[command(flatten)]
        common: Common,
        /// CSV file to score (with `--backend sagemaker`, also `s3://BUCKET/KEY`).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the input with prediction columns appended.
        #[arg(long)]
        output: PathBuf,
        /// A stored version id to score with instead of production.
        #[arg(long)]
        version: Option<String>,
        /// `local` (in-process) or `sagemaker` (a batch-transform job; for versions
        /// trained by SageMaker).
        #[arg(long, value_enum, default_value = "local")]
        backend: BackendArg,
    },
    /// validate-data → train → evaluate → validate-model → compare → promote.
    #[command(after_help = EXIT_CODES)]
    Run(Common),
    /// Check the config or print its JSON Schema.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Data schemas: write a starting schema from a data file.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Scaffold mlgate.yaml and an empty production pointer.
    Init {
        /// Model name.
        #[arg(long)]
        model: String,
        #[arg(long, value_parser = ["classification", "regression"])]
        task: String,
        /// The column to predict.
        #[arg(long)]
        target: String,
        /// Training data, relative to --dir.
        #[arg(long)]
        train: String,
        /// Evaluation data, relative to --dir.
        #[arg(long)]
        eval: String,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
}

/// `--format`.
#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Md,
    Json,
    Junit,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Md => Format::Md,
            FormatArg::Json => Format::Json,
            FormatArg::Junit => Format::Junit,
        }
    }
}

/// `predict --backend`.
#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Local,
    Sagemaker,
}

impl From<BackendArg> for PredictBackend {
    fn from(arg: BackendArg) -> PredictBackend {
        match arg {
            BackendArg::Local => PredictBackend::Local,
            BackendArg::Sagemaker => PredictBackend::Sagemaker,
        }
    }
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Read DATA (CSV, Parquet or JSON Lines) and write a schema that it passes, to edit.
    Infer {
        /// The data files: give the training and the evaluation data together, so the
        /// schema fits both.
        #[arg(required = true)]
        data: Vec<PathBuf>,
        /// Widen numeric ranges by this share of each range on both sides (0.1: 10%),
        /// so the next batch of data is not refused for a new extreme.
        #[arg(long, default_value_t = 0.0)]
        margin: f64,
        /// Write the schema here (refuses to overwrite) instead of printing it.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Parse and check the config; print every problem with file:line:column.
    Check {
        #[arg(long, short, default_value = "mlgate.yaml", env = "MLGATE_CONFIG")]
        config: PathBuf,
    },
    /// Print the JSON Schema of mlgate.yaml (for editors: yaml-language-server).
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The forge clients log their failures themselves; mlgate's own error says it better,
    // so their lines show only with -vv.
    let filter = match cli.verbose {
        0 => "warn,octocrab=off",
        1 => "info,octocrab=off",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MLGATE_LOG")
                .unwrap_or_else(|_| filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    let mut ci = Ci::detect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(
                &mut ci,
                &Error::external(format!("cannot start the runtime: {e}")),
            )
        }
    };
    match runtime.block_on(command(cli.command, &mut ci)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&mut ci, &e),
    }
}

fn fail(ci: &mut Ci, err: &Error) -> ExitCode {
    eprintln!("error: {err}");
    warn(ci.publish_error(&err.message));
    ExitCode::from(err.exit_code())
}

/// Publishing to the CI is best effort: the step's own verdict stands.
fn warn(errors: Vec<std::io::Error>) {
    for e in errors {
        tracing::warn!("CI integration: {e}");
    }
}

async fn command(command: Command, ci: &mut Ci) -> Result<u8> {
    let (common, step) = match command {
        Command::Config(ConfigCommand::Check { config }) => {
            let project = Project::load(&config)?;
            println!(
                "{}: ok ({} models)",
                config.display(),
                project.config.models.len()
            );
            return Ok(0);
        }
        Command::Config(ConfigCommand::Schema) => {
            println!("{}", mlgate::config::json_schema());
            return Ok(0);
        }
        Command::Schema(SchemaCommand::Infer { data, margin, out }) => {
            let (yaml, warnings) = mlgate::data::infer::infer_files(&data, margin)?;
            for w in warnings {
                eprintln!("warning: {w}");
            }
            match out {
                Some(path) => {
                    mlgate::data::infer::write_new(&path, &yaml)?;
                    println!("created {}", path.display());
                }
                None => print!("{yaml}"),
            }
            return Ok(0);
        }
        Command::Init {
            model,
            task,
            target,
            train,
            eval,
            dir,
        } => {
            let task = if task == "regression" {
                Task::Regression
            } else {
                Task::Classification
            };
            for path in steps::init(&InitOptions {
                dir,
                model,
                task,
                target,
                train,
                eval,
            })? {
                println!("created {}", path.display());
            }
            return Ok(0);
        }
        Command::ValidateData(c) => (c, Step::ValidateData),
        Command::Train(c) => (c, Step::Train),
        Command::Evaluate {
            common,
            version,
            data,
        } => (common, Step::Evaluate { version, data }),
        Command::ValidateModel { common, version } => (common, Step::ValidateModel { version }),
        Command::Compare { common, version } => (common, Step::Compare { version }),
        Command::Promote(c) => (c, Step::Promote),
        Command::Deploy(c) => (c, Step::Deploy),
        Command::Comment(c) => (c, Step::Comment),
        Command::Predict {
            common,
            input,
            output,
            version,
            backend,
        } => (
            common,
            Step::Predict(PredictOptions {
                input,
                output,
                version,
                backend: backend.into(),
            }),
        ),
        Command::Run(c) => (c, Step::Run),
    };
    let ctx = Ctx::from_ci(&common.config, common.out, ci).await?;
    let selection = Selection::from_option(common.model);
    let (reports, outcome) = match steps::execute(&ctx, &step, &selection).await {
        Ok(reports) => (reports, Ok(())),
        Err(halted) => (halted.reports, Err(halted.error)),
    };
    // What was reported before an error is still worth seeing.
    if !reports.is_empty() {
        println!(
            "{}",
            report::render(&reports, common.format.into()).trim_end()
        );
        warn(ci.publish(&reports, &ctx.out));
    }
    outcome?;
    Ok(if reports.iter().all(Report::passed) {
        0
    } else {
        1
    })
}
