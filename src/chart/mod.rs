//! Charts for reports. Mermaid charts render inside a GitHub or GitLab comment without
//! hosting any image; SVG files (feature `charts`) go next to the report for people and
//! CI artifacts.

pub mod curves;
pub mod mermaid;
#[cfg(feature = "charts")]
pub mod svg;
