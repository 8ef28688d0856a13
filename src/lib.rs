//! mlgate: GitOps for machine-learning models.
//!
//! One engine behind every place mlgate runs: the CLI steps used by CI, and the
//! serverless functions. Each module holds one concept of the design.
//!
//! Every adapter does the same three things: build a [`Ctx`] once (store, forge,
//! repository, what started the run, cloud clients), call [`execute`] with a [`Step`]
//! and a [`Selection`] of models, and publish the [`report::Report`]s its own way.
//!
//! Cargo features let an adapter carry only what it runs: `aws` (S3 store, SageMaker),
//! `github`, `gitlab` (forges), `parquet` (reading Parquet data), `charts` (SVG charts)
//! and `cli` (the `mlgate` binary). The default is all of them. A feature that is off
//! is a clear error naming it when a config asks for it.

pub mod chart;
pub mod ci;
pub mod cloud;
pub mod config;
pub mod context;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod forge;
pub mod gate;
pub mod model;
pub mod pointer;
pub mod published;
pub mod repo;
pub mod report;
pub mod steps;
pub mod store;
pub mod train;
pub mod trigger;

pub use context::Ctx;
pub use error::{Error, Result};
pub use steps::{execute, Halted, Selection, Step};

/// The version of mlgate recorded in every manifest it writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
