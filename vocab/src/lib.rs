//! The catalog's vocabulary: the small closed sets every operation is described in (HTTP method,
//! access, authentication, pagination, parameter place and value type), and the naming rules
//! that turn catalog names into WIT and Rust identifiers; and the calendar of the Hub's
//! timestamps ([`time`]).
//!
//! One definition serves every crate: the catalog's reader (`dockhand-spec`) deserializes these
//! enums from YAML, the generator (`xtask`) writes them into the component's tables by name, the
//! component (`dockhand-plugin`) matches on them at run time, and the mock and the end-to-end
//! tests check their own routes and names against them. Before, each of those held its own copy
//! and the generator translated between them.
//!
//! The contract, because the component links this crate:
//! - `no_std`, and nothing here allocates: plain `Copy` enums with `as_str`/`parse`;
//! - `serde` (feature `serde`) spells each value as the catalog's YAML does (`GET`, `read`,
//!   `bearer`, ...), the same text `as_str` gives;
//! - the naming rules build `String`s and so sit behind the `alloc` feature ([`names`]); the
//!   component enables neither feature.
//! - each enum's derived `Debug` is its variant's name, which the generator relies on to write
//!   `Method::Get` into generated Rust.

#![deny(unsafe_code)]
// Tests run on the host with std; `names` is always tested, whatever the features.
#![cfg_attr(not(test), no_std)]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;

#[cfg(any(feature = "alloc", test))]
pub mod env;
#[cfg(any(feature = "alloc", test))]
pub mod names;
pub mod similar;
pub mod time;

/// Declares a vocabulary enum whose values have one spelling each, shared by `as_str`, `parse`
/// and serde, so that no two of them can disagree.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub enum $name {
            $( $(#[$vmeta])* #[cfg_attr(feature = "serde", serde(rename = $text))] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The catalog's spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// The value the catalog spells `text`, exactly.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// An operation's HTTP method. The order (GET, HEAD, POST, PUT, PATCH, DELETE) is the order
    /// an `Allow` header lists them in.
    pub enum Method {
        Get = "GET",
        Head = "HEAD",
        Post = "POST",
        Put = "PUT",
        Patch = "PATCH",
        Delete = "DELETE",
    }
}

impl Method {
    /// A method in any case: OpenAPI writes `get`, HTTP `GET`.
    pub fn parse_any_case(text: &str) -> Option<Method> {
        Method::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
    }
}

vocabulary! {
    /// Whether an operation only reads, or changes something (read-only mode refuses writes).
    pub enum Access {
        Read = "read",
        Write = "write",
    }
}

vocabulary! {
    /// How a request authenticates, after the importer's normalisation.
    pub enum Auth {
        /// A Hub bearer (JWT) is required.
        Bearer = "bearer",
        /// A bearer is sent when the account has one; anonymous calls work for public data.
        Optional = "optional",
        /// The organisation's SCIM bearer token.
        Scim = "scim",
        /// No Authorization header: login and token-exchange operations.
        None = "none",
    }
}

vocabulary! {
    /// How an operation's results come in pages.
    #[derive(Default)]
    pub enum Pagination {
        #[default]
        None = "none",
        /// `page`/`page_size` query parameters and a `next` link in the body.
        Page = "page",
        /// SCIM `startIndex`/`count` with `totalResults` and `Resources`.
        Scim = "scim",
    }
}

vocabulary! {
    /// Where a parameter goes in the request.
    pub enum Location {
        Path = "path",
        Query = "query",
        Header = "header",
    }
}

vocabulary! {
    /// A parameter's or body field's JSON type, as JSON Schema names it.
    pub enum Type {
        String = "string",
        Integer = "integer",
        Number = "number",
        Boolean = "boolean",
        Array = "array",
        Object = "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_back_to_its_value() {
        fn round_trip<T: Copy + PartialEq + core::fmt::Debug>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(parse(as_str(v)), Some(v));
            }
        }
        round_trip(Method::ALL, Method::as_str, Method::parse);
        round_trip(Access::ALL, Access::as_str, Access::parse);
        round_trip(Auth::ALL, Auth::as_str, Auth::parse);
        round_trip(Pagination::ALL, Pagination::as_str, Pagination::parse);
        round_trip(Location::ALL, Location::as_str, Location::parse);
        round_trip(Type::ALL, Type::as_str, Type::parse);
    }

    #[test]
    fn methods_parse_in_any_case_only_when_asked() {
        assert_eq!(Method::parse("get"), None);
        assert_eq!(Method::parse_any_case("get"), Some(Method::Get));
        assert_eq!(Method::parse_any_case("Patch"), Some(Method::Patch));
        assert_eq!(Method::parse_any_case("OPTIONS"), None);
    }

    #[test]
    fn methods_sort_as_an_allow_header_lists_them() {
        let mut shuffled = [Method::Delete, Method::Get, Method::Patch, Method::Put];
        shuffled.sort();
        assert_eq!(
            shuffled,
            [Method::Get, Method::Put, Method::Patch, Method::Delete]
        );
    }

    #[test]
    fn pagination_defaults_to_none() {
        assert_eq!(Pagination::default(), Pagination::None);
    }
}
