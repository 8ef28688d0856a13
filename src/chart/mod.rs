//! Charts for reports. Mermaid charts render inside a GitHub or GitLab comment without
//! hosting any image.

pub mod mermaid;
