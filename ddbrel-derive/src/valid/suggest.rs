//! The fixes the messages propose: a valid URN type, domain or constraint name close to
//! what was written. These are diagnostics of the derive; the grammar itself is
//! `ddbrel_grammar`'s.

use ddbrel_grammar::{validate_domain, validate_resource_type};

/// A valid resource type close to `value`, if one can be made: segments split at `.`, `:`
/// or `/`, each turned to PascalCase.
pub fn suggest_resource_type(value: &str) -> Option<String> {
    let segments: Vec<String> = value
        .split(['.', ':', '/'])
        .map(pascal_case)
        .filter(|segment| !segment.is_empty())
        .collect();
    let fixed = segments.join(".");
    (fixed != value && validate_resource_type(&fixed).is_ok()).then_some(fixed)
}

/// `segment` as one PascalCase word: alphanumeric runs capitalized and joined, leading
/// digits dropped.
fn pascal_case(segment: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in segment.chars() {
        if c.is_ascii_alphanumeric() {
            if out.is_empty() && c.is_ascii_digit() {
                continue;
            }
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

/// A valid domain close to `value`, if one can be made: lowercased, separators turned to
/// `-`, other characters dropped, cut to 32.
pub fn suggest_domain(value: &str) -> Option<String> {
    let mut fixed: String = value
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '_' | ' ' | '.' => Some('-'),
            _ => None,
        })
        .skip_while(|c| !c.is_ascii_lowercase())
        .collect();
    fixed.truncate(32);
    (fixed != value && validate_domain(&fixed).is_ok()).then_some(fixed)
}

/// Whether `name` matches `[a-z][a-z0-9_]*`.
pub fn is_constraint_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `name` as lowercase snake_case matching `[a-z][a-z0-9_]*` (best effort).
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if out.is_empty() && c.is_ascii_digit() {
                continue;
            }
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "constraint".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types() {
        assert_eq!(
            suggest_resource_type("system.account.job_collection").as_deref(),
            Some("System.Account.JobCollection")
        );
        assert_eq!(
            suggest_resource_type("System..Widget").as_deref(),
            Some("System.Widget")
        );
        assert_eq!(suggest_resource_type("System.Job"), None);
        assert_eq!(suggest_resource_type("..."), None);
    }

    #[test]
    fn domains() {
        assert_eq!(suggest_domain("My_Domain").as_deref(), Some("my-domain"));
        assert_eq!(suggest_domain("PP").as_deref(), Some("pp"));
        assert_eq!(suggest_domain("pp"), None);
        assert_eq!(suggest_domain("123"), None);
    }

    #[test]
    fn constraint_names() {
        assert!(is_constraint_name("email"));
        assert!(is_constraint_name("first_last_2"));
        assert!(!is_constraint_name("Email"));
        assert!(!is_constraint_name("_email"));
        assert!(!is_constraint_name("e-mail"));
        assert!(!is_constraint_name(""));
        assert_eq!(snake_case("userName"), "user_name");
        assert_eq!(snake_case("e-mail"), "e_mail");
        assert_eq!(snake_case("_x"), "x");
    }
}
