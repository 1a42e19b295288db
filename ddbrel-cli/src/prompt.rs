//! Asking the person at the terminal before destructive commands.

use std::io::Write;

use crate::failure::Failure;

/// Asks `question` on stderr and reads a yes or no from stdin (no unless `y` or `yes`).
pub fn confirm(question: &str) -> Result<bool, Failure> {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
