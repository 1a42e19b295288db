//! [`Once`]: a key or attribute that may be given once.

use quote::ToTokens;

use crate::ctxt::Ctxt;

/// A value that may be given once; a second one is an error at the second occurrence.
pub struct Once<'c, T> {
    cx: &'c Ctxt,
    /// The error when it is given twice.
    duplicate: String,
    value: Option<T>,
}

impl<'c, T> Once<'c, T> {
    pub fn new(cx: &'c Ctxt, duplicate: impl Into<String>) -> Self {
        Once {
            cx,
            duplicate: duplicate.into(),
            value: None,
        }
    }

    /// A key of an attribute, e.g. `key(cx, "type", "#[urn(..)]")`.
    pub fn key(cx: &'c Ctxt, key: &str, attribute: &str) -> Self {
        Once::new(
            cx,
            format!("duplicate key `{key}` in `{attribute}`: give it once"),
        )
    }

    pub fn set<S: ToTokens>(&mut self, at: S, value: T) {
        if self.value.is_some() {
            self.cx.error_spanned_by(at, &self.duplicate);
        } else {
            self.value = Some(value);
        }
    }

    pub fn get(self) -> Option<T> {
        self.value
    }
}
