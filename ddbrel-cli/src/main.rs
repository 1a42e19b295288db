//! The shipped `ddbrel` binary: the CLI with the sample entity types compiled in. Types of
//! other applications are known through the table's type registry; an application's own
//! admin binary calls [`ddbrel_cli::main`] with its types instead.

use std::process::ExitCode;

fn main() -> ExitCode {
    ddbrel_cli::main(ddbrel_cli::Registry::samples())
}
