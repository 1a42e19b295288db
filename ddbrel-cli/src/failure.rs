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
    /// The error's message; a bulk operation cut short also says what stopped it (a missing
    /// table, throttling), which its own message leaves to its source.
    fn from(e: ddbrel_runtime::Error) -> Self {
        match &e {
            ddbrel_runtime::Error::Incomplete { source, .. } => {
                Failure::new(format!("{e}: {source}"))
            }
            _ => Failure::new(e.to_string()),
        }
    }
}
