// The smallest entity: a root with only `#[urn(type = ..)]`. Like every pass case, this crate
// uses only `ddbrel_runtime` and `serde`, as a user crate would.
use ddbrel_runtime::{Entity, Root, Urn, UrnPart};
use serde::{Deserialize, Serialize};

/// A thing.
#[derive(Debug, Serialize, Deserialize, Entity)]
#[urn(type = "Widget")]
pub struct Widget {
    pub name: String,
}

fn is_root<E: Root>() {}

fn main() {
    is_root::<Widget>();
    assert_eq!(Widget::RESOURCE_TYPE, "Widget");
    assert_eq!(Widget::DOMAIN, "pp");
    assert_eq!(Widget::SCHEMA_VERSION, 1);
    assert!(!Widget::ACCOUNT_SCOPED);

    let d = Widget::descriptor();
    assert_eq!(d.type_name, "Widget");
    assert_eq!(d.resource_type, "Widget");
    assert_eq!(d.domain, "pp");
    assert_eq!(d.schema_version, 1);
    assert_eq!(d.parent, None);
    assert!(!d.account_scoped);
    assert!(d.unique.is_empty());
    assert_eq!(d.collection, None);
    assert_eq!(d.fields, &["name"]);
    assert!(
        std::ptr::eq(d, Widget::descriptor()),
        "descriptor() is a static"
    );

    let widget = Widget { name: "w".into() };
    assert!(widget.unique_parts().is_empty());

    let urn: Urn<Widget> = Widget::new_urn();
    assert!(urn.as_str().starts_with("urn:pp:Widget::"));
    assert_eq!(Widget::urn_prefix(), "urn:pp:Widget::");
    assert_eq!(Widget::parse_urn(urn.as_str()).unwrap(), urn);
    let wrong = format!("urn:pp:Gadget::{}", urn.id());
    assert_eq!(
        Widget::parse_urn(&wrong).unwrap_err().part(),
        UrnPart::ResourceType
    );
}
