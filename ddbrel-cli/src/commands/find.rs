//! `ddbrel find`: look a resource up by a unique value.

use ddbrel_runtime::codec::to_plain_json;

use crate::context::Ctx;
use crate::failure::Failure;
use crate::output;
use crate::parse::urn;

/// Prints the `type_` resource holding `values` under `constraint` (within `scope` for scoped
/// constraints); fails when none does.
pub async fn find(
    ctx: &Ctx,
    type_: &str,
    constraint: &str,
    values: Vec<String>,
    scope: Option<&str>,
) -> Result<(), Failure> {
    let scope = scope.map(urn).transpose()?;
    let known = ctx.known_types().await?;
    let d = &known.require(type_)?.schema;
    match ctx
        .store
        .find_unique_item(d, constraint, scope.as_ref(), values)
        .await?
    {
        Some(item) => {
            output::value(ctx.json, &to_plain_json(&item));
            Ok(())
        }
        None => Err(Failure::new(format!(
            "no {} holds that {constraint}",
            d.type_name
        ))),
    }
}
