//! One module per command or command family; `main` parses the arguments and calls into them.

pub mod check;
pub mod delete;
pub mod demo;
pub mod find;
pub mod migrate;
pub mod queries;
pub mod schema;
pub mod serve;
pub mod table;
pub mod transfer;
