//! How catalog names are spelled elsewhere: snake_case aliases, kebab-case and WIT identifiers,
//! and the Rust names wit-bindgen derives from those.
//!
//! The generator writes WIT and Rust with these rules, the catalog's checks hold names to them,
//! and the end-to-end tests find the generated functions by them; one copy means a rule changed
//! here changes for all three. They build strings, hence the `alloc` feature.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// `pageSize` -> `page_size`, `X-Analytics-Client-Feature` -> `x_analytics_client_feature`,
/// `startIndex` -> `start_index`; snake_case input comes back unchanged.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower_or_digit = false;
    for c in name.chars() {
        if c == '-' || c == ' ' || c == '.' {
            out.push('_');
            prev_lower_or_digit = false;
        } else if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else {
            out.push(c);
            prev_lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// Kebab-case words of lowercase letters and digits: area names (`org-access-tokens`).
pub fn kebab_case(name: &str) -> String {
    snake_case(name).replace('_', "-")
}

/// True when `name` is lower snake_case: `[a-z][a-z0-9_]*` without doubled or trailing `_`.
pub fn is_snake_case(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        && !name.contains("__")
        && !name.ends_with('_')
}

/// The `{name}` placeholders of a path template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(&rest[start + 1..start + len]);
        rest = &rest[start + len + 1..];
    }
    out
}

/// A WIT identifier: kebab-case words that each start with a letter, so a word that starts
/// with a digit joins the word before it (`login_2fa_token` -> `login2fa-token`).
pub fn wit_ident(name: &str) -> String {
    let snake = snake_case(name);
    let mut out = String::new();
    for word in snake.split('_').filter(|w| !w.is_empty()) {
        let starts_with_digit = word.as_bytes()[0].is_ascii_digit();
        if !out.is_empty() && !starts_with_digit {
            out.push('-');
        }
        out.push_str(word);
    }
    out
}

const WIT_KEYWORDS: &[&str] = &[
    "as",
    "async",
    "bool",
    "borrow",
    "char",
    "constructor",
    "enum",
    "export",
    "f32",
    "f64",
    "flags",
    "float32",
    "float64",
    "from",
    "func",
    "future",
    "import",
    "include",
    "interface",
    "list",
    "own",
    "package",
    "record",
    "resource",
    "result",
    "s16",
    "s32",
    "s64",
    "s8",
    "static",
    "stream",
    "string",
    "tuple",
    "type",
    "u16",
    "u32",
    "u64",
    "u8",
    "use",
    "variant",
    "with",
    "world",
    "option",
    "error-context",
];

/// `type` -> `%type`: WIT's escape for identifiers that are keywords.
pub fn wit_escape(ident: &str) -> String {
    if WIT_KEYWORDS.contains(&ident) {
        alloc::format!("%{ident}")
    } else {
        ident.to_string()
    }
}

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// The Rust name wit-bindgen gives a WIT field or function.
pub fn rust_ident(wit: &str) -> String {
    let snake = wit.replace('-', "_");
    if RUST_KEYWORDS.contains(&snake.as_str()) {
        alloc::format!("{snake}_")
    } else {
        snake
    }
}

/// The Rust type name wit-bindgen gives a WIT record (`list-tags-args` -> `ListTagsArgs`).
pub fn rust_type(wit: &str) -> String {
    wit.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn snake_case_handles_camel_header_and_snake_names() {
        assert_eq!(snake_case("pageSize"), "page_size");
        assert_eq!(snake_case("startIndex"), "start_index");
        assert_eq!(snake_case("sortOrder"), "sort_order");
        assert_eq!(snake_case("userName"), "user_name");
        assert_eq!(
            snake_case("X-Analytics-Client-Feature"),
            "x_analytics_client_feature"
        );
        assert_eq!(snake_case("org_name"), "org_name");
        assert_eq!(snake_case("login_2fa_token"), "login_2fa_token");
    }

    #[test]
    fn kebab_case_follows_snake_case() {
        assert_eq!(kebab_case("list_repository_tags"), "list-repository-tags");
        assert_eq!(kebab_case("startIndex"), "start-index");
    }

    #[test]
    fn placeholders_in_template_order() {
        assert_eq!(
            placeholders("/v2/orgs/{org_name}/groups/{group_name}/members/{username}"),
            vec!["org_name", "group_name", "username"]
        );
        assert!(placeholders("/v2/access-tokens").is_empty());
    }

    #[test]
    fn snake_case_check() {
        assert!(is_snake_case("list_repository_tags"));
        assert!(!is_snake_case("ListRepositoryTags"));
        assert!(!is_snake_case("bad__name"));
        assert!(!is_snake_case("1abc"));
    }

    #[test]
    fn wit_identifiers_never_start_a_word_with_a_digit() {
        assert_eq!(wit_ident("login_2fa_token"), "login2fa-token");
        assert_eq!(wit_ident("startIndex"), "start-index");
        assert_eq!(
            wit_ident("X-Analytics-Client-Feature"),
            "x-analytics-client-feature"
        );
    }

    #[test]
    fn keywords_are_escaped_in_wit_and_suffixed_in_rust() {
        assert_eq!(wit_escape("type"), "%type");
        assert_eq!(wit_escape("role"), "role");
        assert_eq!(rust_ident("type"), "type_");
        assert_eq!(rust_ident("page-size"), "page_size");
        assert_eq!(
            rust_type("list-repository-tags-args"),
            "ListRepositoryTagsArgs"
        );
    }
}
