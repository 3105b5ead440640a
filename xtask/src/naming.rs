//! How catalog names become WIT and Rust identifiers, matching what wit-bindgen derives.

/// A WIT identifier: kebab-case words that each start with a letter, so a word that starts
/// with a digit joins the word before it (`login_2fa_token` -> `login2fa-token`).
pub fn wit_ident(name: &str) -> String {
    let snake = dockhand_spec::names::snake_case(name);
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
        format!("%{ident}")
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
        format!("{snake}_")
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
