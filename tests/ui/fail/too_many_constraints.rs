// An update that changes every unique value moves two markers per constraint in one
// transaction: 50 constraints cannot fit DynamoDB's 100 actions.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "Test.Wide")]
#[unique(fields(a0), name = "c0")] #[unique(fields(a0), name = "c1")] #[unique(fields(a0), name = "c2")]
#[unique(fields(a0), name = "c3")] #[unique(fields(a0), name = "c4")] #[unique(fields(a0), name = "c5")]
#[unique(fields(a0), name = "c6")] #[unique(fields(a0), name = "c7")] #[unique(fields(a0), name = "c8")]
#[unique(fields(a0), name = "c9")] #[unique(fields(a0), name = "c10")] #[unique(fields(a0), name = "c11")]
#[unique(fields(a0), name = "c12")] #[unique(fields(a0), name = "c13")] #[unique(fields(a0), name = "c14")]
#[unique(fields(a0), name = "c15")] #[unique(fields(a0), name = "c16")] #[unique(fields(a0), name = "c17")]
#[unique(fields(a0), name = "c18")] #[unique(fields(a0), name = "c19")] #[unique(fields(a0), name = "c20")]
#[unique(fields(a0), name = "c21")] #[unique(fields(a0), name = "c22")] #[unique(fields(a0), name = "c23")]
#[unique(fields(a0), name = "c24")] #[unique(fields(a0), name = "c25")] #[unique(fields(a0), name = "c26")]
#[unique(fields(a0), name = "c27")] #[unique(fields(a0), name = "c28")] #[unique(fields(a0), name = "c29")]
#[unique(fields(a0), name = "c30")] #[unique(fields(a0), name = "c31")] #[unique(fields(a0), name = "c32")]
#[unique(fields(a0), name = "c33")] #[unique(fields(a0), name = "c34")] #[unique(fields(a0), name = "c35")]
#[unique(fields(a0), name = "c36")] #[unique(fields(a0), name = "c37")] #[unique(fields(a0), name = "c38")]
#[unique(fields(a0), name = "c39")] #[unique(fields(a0), name = "c40")] #[unique(fields(a0), name = "c41")]
#[unique(fields(a0), name = "c42")] #[unique(fields(a0), name = "c43")] #[unique(fields(a0), name = "c44")]
#[unique(fields(a0), name = "c45")] #[unique(fields(a0), name = "c46")] #[unique(fields(a0), name = "c47")]
#[unique(fields(a0), name = "c48")] #[unique(fields(a0), name = "c49")]
pub struct Wide {
    pub a0: String,
}

fn main() {}
