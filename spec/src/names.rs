//! Spelling rules shared by the catalog checks and the code generators.

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

/// WIT identifiers are kebab-case words of lowercase letters and digits.
pub fn kebab_case(name: &str) -> String {
    snake_case(name).replace('_', "-")
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
