//! serde's `rename_all` conventions, applied to field names to learn the stored attribute
//! names.

/// A `#[serde(rename_all = "...")]` convention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    /// The convention named `name` as serde spells it, or `None` (serde reports the error).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            "PascalCase" => RenameRule::Pascal,
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING-KEBAB-CASE" => RenameRule::ScreamingKebab,
            _ => return None,
        })
    }

    /// The name serde gives a field called `field` (a snake_case Rust name) under this
    /// convention.
    pub fn apply_to_field(self, field: &str) -> String {
        match self {
            // serde leaves field names as written for these two: Rust fields are already
            // lowercase snake_case.
            RenameRule::Lower | RenameRule::Snake => field.to_string(),
            RenameRule::Upper | RenameRule::ScreamingSnake => field.to_ascii_uppercase(),
            RenameRule::Pascal => upper_camel(field),
            RenameRule::Camel => {
                let pascal = upper_camel(field);
                let mut chars = pascal.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                    None => pascal,
                }
            }
            RenameRule::Kebab => field.replace('_', "-"),
            RenameRule::ScreamingKebab => field.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

/// `snake_name` → `SnakeName`: every `_` is dropped and the letter after it (and the first
/// letter) is uppercased.
fn upper_camel(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut at_word_start = true;
    for c in field.chars() {
        if c == '_' {
            at_word_start = true;
        } else if at_word_start {
            out.push(c.to_ascii_uppercase());
            at_word_start = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::RenameRule::*;

    #[test]
    fn conventions() {
        let f = "display_name_2";
        assert_eq!(Lower.apply_to_field(f), "display_name_2");
        assert_eq!(Snake.apply_to_field(f), "display_name_2");
        assert_eq!(Upper.apply_to_field(f), "DISPLAY_NAME_2");
        assert_eq!(ScreamingSnake.apply_to_field(f), "DISPLAY_NAME_2");
        assert_eq!(Pascal.apply_to_field(f), "DisplayName2");
        assert_eq!(Camel.apply_to_field(f), "displayName2");
        assert_eq!(Kebab.apply_to_field(f), "display-name-2");
        assert_eq!(ScreamingKebab.apply_to_field(f), "DISPLAY-NAME-2");
    }
}
