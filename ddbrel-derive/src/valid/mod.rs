//! Every rule an entity declaration must follow, each reported at the token that breaks it
//! and saying what to write instead.
//!
//! One function per rule, with the rule stated above it: [`container`] holds the rules about
//! the struct's own attributes, [`fields`] those about stored attribute names and unique
//! constraints, and [`suggest`] the fixes the messages propose.

mod container;
mod fields;
mod suggest;

use crate::ast::Container;
use crate::ctxt::Ctxt;

pub use suggest::is_constraint_name;

/// Checks everything that can be checked before type checking.
pub fn check(cx: &Ctxt, cont: &Container) {
    container::check_generics(cx, cont);
    container::check_urn(cx, cont);
    container::check_version(cx, cont);
    container::check_parent(cx, cont);
    container::check_parent_list(cx, cont);
    container::check_account_scoped(cx, cont);
    fields::check_serde_container(cx, cont);
    fields::check_fields(cx, cont);
    fields::check_string_sets(cx, cont);
    fields::check_constraints(cx, cont);
    container::check_collection(cx, cont);
    container::check_urn_length(cx, cont);
    container::check_transaction_size(cx, cont);
}
