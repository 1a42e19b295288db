// Every serde `rename_all` convention gives the attribute names serde really writes.
use ddbrel_runtime::Entity;
use serde::{Deserialize, Serialize};

macro_rules! convention {
    ($name:ident, $rule:literal, $urn:literal) => {
        #[derive(Default, Serialize, Deserialize, Entity)]
        #[urn(type = $urn)]
        #[serde(rename_all = $rule)]
        pub struct $name {
            pub display_name: String,
            pub count_2: u32,
            #[serde(rename = "as_is")]
            pub renamed: bool,
            pub r#type: String,
        }
    };
}

convention!(Lower, "lowercase", "Lower");
convention!(Upper, "UPPERCASE", "Upper");
convention!(Pascal, "PascalCase", "Pascal");
convention!(Camel, "camelCase", "Camel");
convention!(Snake, "snake_case", "Snake");
convention!(ScreamingSnake, "SCREAMING_SNAKE_CASE", "ScreamingSnake");
convention!(Kebab, "kebab-case", "Kebab");
convention!(ScreamingKebab, "SCREAMING-KEBAB-CASE", "ScreamingKebab");

#[derive(Default, Serialize, Deserialize, Entity)]
#[urn(type = "SerializeOnly")]
#[serde(rename_all(serialize = "camelCase", deserialize = "snake_case"))]
pub struct SerializeOnly {
    pub display_name: String,
    #[serde(rename(serialize = "ser_name", deserialize = "de_name"))]
    pub other: String,
}

#[derive(Default, Serialize, Deserialize, Entity)]
#[urn(type = "Tagged")]
#[serde(tag = "kind", rename_all = "camelCase")]
pub struct Tagged {
    pub display_name: String,
    #[serde(skip_serializing, default)]
    pub transient: String,
    #[serde(skip)]
    pub cached: u32,
}

/// Field names in serialization order, from serde itself.
fn written<E: Entity + Default>() -> Vec<String> {
    let value = serde_json::to_value(E::default()).unwrap();
    let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

fn declared<E: Entity>() -> Vec<String> {
    let mut names: Vec<String> = E::descriptor()
        .fields
        .iter()
        .map(|f| f.to_string())
        .collect();
    names.sort();
    names
}

fn check<E: Entity + Default>(expected: &[&str]) {
    assert_eq!(E::descriptor().fields, expected, "{}", E::RESOURCE_TYPE);
    assert_eq!(declared::<E>(), written::<E>(), "{}", E::RESOURCE_TYPE);
}

fn main() {
    check::<Lower>(&["display_name", "count_2", "as_is", "type"]);
    check::<Upper>(&["DISPLAY_NAME", "COUNT_2", "as_is", "TYPE"]);
    check::<Pascal>(&["DisplayName", "Count2", "as_is", "Type"]);
    check::<Camel>(&["displayName", "count2", "as_is", "type"]);
    check::<Snake>(&["display_name", "count_2", "as_is", "type"]);
    check::<ScreamingSnake>(&["DISPLAY_NAME", "COUNT_2", "as_is", "TYPE"]);
    check::<Kebab>(&["display-name", "count-2", "as_is", "type"]);
    check::<ScreamingKebab>(&["DISPLAY-NAME", "COUNT-2", "as_is", "TYPE"]);
    check::<SerializeOnly>(&["displayName", "ser_name"]);
    check::<Tagged>(&["kind", "displayName"]);
}
