//! Integration tests: one binary, one module per area.

mod aws;
mod aws_support;
mod azure;
mod ci;
mod common;
mod config_errors;
mod data;
mod docs;
mod engine;
mod forge_config;
mod forge_context;
mod forge_github;
mod forge_gitlab;
mod forge_step;
mod forge_support;
mod infra;
mod journeys;
mod packaging;
#[path = "../support/process.rs"]
mod process;
mod steps;
mod train;
mod triggers;
