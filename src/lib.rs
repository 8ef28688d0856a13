//! mlgate: GitOps for machine-learning models.
//!
//! One engine behind every place mlgate runs: the CLI steps used by CI, and the
//! serverless functions. Each module holds one concept of the design.

pub mod chart;
pub mod ci;
pub mod cloud;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod forge;
pub mod gate;
pub mod model;
pub mod pointer;
pub mod report;
pub mod steps;
pub mod store;
pub mod train;

pub use error::{Error, Result};

/// The version of mlgate recorded in every manifest it writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
