// A mistake in a declaration is reported once, at the token at fault, even where the type
// is used: next to the error the derive still implements `Entity` and the relationship
// traits, so the calls below have nothing more to report.
use ddbrel_runtime::{Entity, PageRequest, Result, Store};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.widget")]
pub struct Widget {
    #[unique]
    pub serial: String,
}

#[derive(Serialize, Deserialize, Entity)]
#[urn(type = "System.Widget.Part")]
#[parent(Widget)]
pub struct Part {
    pub name: String,
}

async fn use_them(store: &Store) -> Result<()> {
    let widget = store.create(Widget { serial: "w-1".into() }).await?;
    let part = store
        .create_child(&widget, Part { name: "bolt".into() })
        .await?;
    let _ = store.get(&widget.urn).await?;
    let _ = store.children::<Part>(&widget.urn, PageRequest::all()).await?;
    let _ = Widget::find_by_serial(store, "w-1").await?;
    let _ = (Widget::new_urn(), Part::parse_urn(part.urn.as_str()));
    let _ = <Widget as Entity>::RESOURCE_TYPE;
    Ok(())
}

fn main() {
    let _ = use_them;
}
