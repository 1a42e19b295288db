//! Parsing URNs given on the command line.

use ddbrel_runtime::AnyUrn;

use crate::failure::Failure;

/// Parses a URN given on the command line.
pub fn urn(text: &str) -> Result<AnyUrn, Failure> {
    AnyUrn::parse(text).map_err(|e| Failure::new(e.to_string()))
}
