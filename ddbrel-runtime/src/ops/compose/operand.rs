//! What a composed transaction's steps hand back: [`Pending`] (a resource a step writes),
//! [`Operand`] (what a step takes as a parent or membership end), [`Committed`] and
//! [`CommitError`].

use crate::error::Error;
use crate::records::resource::Stored;
use crate::urn::Urn;

/// A resource a step of a transaction writes: what it will be once the transaction commits.
/// Pass it as a parent or membership end to later steps; [`Committed::stored`] gives it back
/// as a [`Stored`] once committed.
#[derive(Debug, Clone)]
pub struct Pending<E> {
    pub(super) stored: Stored<E>,
    pub(super) tx: u64,
    pub(super) step: usize,
}

impl<E> Pending<E> {
    /// The URN it has (or will have).
    pub fn urn(&self) -> &Urn<E> {
        &self.stored.urn
    }

    /// The step that writes it (0 for the first step).
    pub fn step(&self) -> usize {
        self.step
    }
}

/// A resource a step can take as a parent or membership end: one read earlier, or one an
/// earlier step of the same transaction creates.
pub trait Operand<E> {
    /// The resource as read, or as it will be.
    fn resource(&self) -> &Stored<E>;
    /// Whether an earlier step of transaction `tx` creates it.
    fn created_in(&self, tx: u64) -> bool;
}

impl<E> Operand<E> for Stored<E> {
    fn resource(&self) -> &Stored<E> {
        self
    }
    fn created_in(&self, _: u64) -> bool {
        false
    }
}

impl<E> Operand<E> for Pending<E> {
    fn resource(&self) -> &Stored<E> {
        &self.stored
    }
    fn created_in(&self, tx: u64) -> bool {
        self.tx == tx
    }
}

/// A committed transaction: hands back what its steps wrote.
#[derive(Debug)]
pub struct Committed {
    pub(super) id: u64,
}

impl Committed {
    /// The resource a step of this transaction created or updated, as stored now. `None`
    /// for a [`Pending`] of another transaction.
    pub fn stored<E: Clone>(&self, pending: &Pending<E>) -> Option<Stored<E>> {
        (pending.tx == self.id).then(|| pending.stored.clone())
    }
}

/// Why a composed transaction did not commit: the step that caused it (when one did) and the
/// error, named as the step's own operation would name it. Nothing was applied.
#[derive(Debug, thiserror::Error)]
#[error("{}{error}", step.map(|s| format!("step {s}: ")).unwrap_or_default())]
pub struct CommitError {
    /// The step (0 for the first) whose condition failed or which was refused.
    pub step: Option<usize>,
    /// What went wrong.
    #[source]
    pub error: Error,
}

impl crate::wire::telemetry::SpanError for CommitError {
    fn kind(&self) -> &'static str {
        self.error.kind()
    }
}

impl From<CommitError> for Error {
    fn from(e: CommitError) -> Error {
        e.error
    }
}
