//! The one error type of the commands: a one-line message and an exit status.

/// A user-facing failure: one line, and the exit status.
#[derive(Debug)]
pub struct Failure {
    /// The message, printed after `ddbrel: `.
    pub message: String,
    /// The exit status.
    pub code: u8,
}

impl Failure {
    /// A failure with exit status 1.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
    /// A failure with another exit status.
    pub fn with_code(message: impl Into<String>, code: u8) -> Self {
        Failure {
            message: message.into(),
            code,
        }
    }
}

impl From<ddbrel_runtime::Error> for Failure {
    fn from(e: ddbrel_runtime::Error) -> Self {
        Failure::new(e.to_string())
    }
}
