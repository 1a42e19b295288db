//! Error context: collects every error found while reading and checking the input so that
//! they are all reported together.

use std::cell::RefCell;
use std::fmt::Display;
use std::thread;

use quote::ToTokens;

/// Collects errors; [`Ctxt::check`] combines them into one `syn::Error`.
///
/// A `Ctxt` must be consumed by [`Ctxt::check`]: dropping one unchecked panics, so that no
/// code path can read the input, find mistakes and then forget to report them.
pub struct Ctxt {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// An empty context, which must be checked before it is dropped.
    pub fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error spanning `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Records an error from syn's parser.
    pub fn syn_error(&self, error: syn::Error) {
        self.push(error);
    }

    fn push(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("errors recorded after the context was checked")
            .push(error);
    }

    /// All errors combined, or `Ok` when there are none.
    pub fn check(self) -> syn::Result<()> {
        let errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("the context is checked once");
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        // Panicking while already unwinding would abort and hide the first panic.
        if !thread::panicking() && self.errors.get_mut().is_some() {
            panic!("ddbrel-derive bug: a Ctxt was dropped without `check` reporting its errors");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ctxt;

    #[test]
    fn checked_contexts_drop_quietly() {
        assert!(Ctxt::new().check().is_ok());
        let cx = Ctxt::new();
        cx.error_spanned_by(quote::quote!(x), "first");
        cx.error_spanned_by(quote::quote!(y), "second");
        let error = cx.check().unwrap_err();
        assert_eq!(error.into_iter().count(), 2);
    }

    #[test]
    #[should_panic(expected = "dropped without `check`")]
    fn unchecked_context_panics() {
        let cx = Ctxt::new();
        cx.error_spanned_by(quote::quote!(x), "never reported");
    }
}
