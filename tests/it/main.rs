//! Integration tests: one binary, one module per area.

mod ci;
mod common;
mod config_errors;
mod data;
mod docs;
mod journeys;
mod steps;
mod train;
