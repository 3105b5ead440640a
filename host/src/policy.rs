//! What the component may do: which origins it may reach, whether it may write, and the limits
//! on time, memory and response size.

use std::time::Duration;

/// The Hub the host talks to unless told otherwise, and the one origin the default
/// [`Policy`] allows.
pub const DEFAULT_BASE_URL: &str = "https://hub.docker.com";

/// An exact `scheme://host:port` the component may send requests to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// A host name or an IP address; an IPv6 address without its brackets.
    pub host: String,
    /// As the URL gave it, or the scheme's default.
    pub port: u16,
}

/// A URL as an error message may quote it: without user information, query or fragment (where
/// a mistyped secret would sit), and not at all when it is not a URL (it may be the secret).
pub fn quoted_url(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the URL given".to_owned();
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let (rest, dropped) = (&rest[..end], end < rest.len());
    // User information may hold a `/` (a password), so everything up to the last `@` goes.
    let (user, rest) = match rest.rsplit_once('@') {
        Some((_, after)) => ("***@", after),
        None => ("", rest),
    };
    let more = if dropped { "?***" } else { "" };
    format!("`{scheme}://{user}{rest}{more}`")
}

impl Origin {
    /// Parses the origin of a base URL such as `https://hub.docker.com` or `http://127.0.0.1:8080/v2`.
    pub fn parse(url: &str) -> Result<Origin, String> {
        let shown = quoted_url(url);
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{shown} is not an http:// or https:// URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(format!("{shown} is not an http:// or https:// URL")),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("{shown} has no usable host"));
        }
        let (host, port) = split_host_port(authority, default_port)
            .ok_or_else(|| format!("{shown} has an invalid port"))?;
        // A host the HTTP stack would read differently (or not at all) is refused here, so
        // that what the allow-list compares is what a connection would go to.
        let valid = if authority.starts_with('[') {
            host.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        };
        if !valid {
            return Err(format!("{shown} has no usable host"));
        }
        Ok(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether a request to `scheme` and `authority` (as in a request URI) goes to this origin.
    pub fn matches(&self, scheme: &str, authority: &str) -> bool {
        let default_port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        match split_host_port(authority, default_port) {
            Some((host, port)) => {
                scheme.eq_ignore_ascii_case(&self.scheme)
                    && host.eq_ignore_ascii_case(&self.host)
                    && port == self.port
            }
            None => false,
        }
    }
}

/// A Hub base URL, normalised once for everything that builds a URL from it (the component's
/// requests and the broker's token exchange): a scheme, a lower-case host and a port, with the
/// `/v2` that older configurations end in, and any trailing `/`, removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl {
    origin: Origin,
    /// `scheme://host[:port]`, the port written only when it is not the scheme's default.
    text: String,
}

impl BaseUrl {
    /// Docker Hub's own base URL.
    pub fn docker_hub() -> BaseUrl {
        BaseUrl::parse(DEFAULT_BASE_URL).expect("the default base URL parses")
    }

    /// Parses `https://hub.docker.com`, `http://127.0.0.1:8080/v2/` and the like. Anything
    /// after the authority but `/v2` is refused: the catalog's paths start with `/v2`, and a
    /// base that silently dropped a path would send requests somewhere the user did not mean.
    pub fn parse(url: &str) -> Result<BaseUrl, String> {
        let origin = Origin::parse(url)?;
        let trimmed = url.trim();
        let rest = &trimmed[trimmed.find("://").map_or(0, |i| i + 3)..];
        let path = rest.find(['/', '?', '#']).map_or("", |i| &rest[i..]);
        let path = path.trim_end_matches('/');
        if !(path.is_empty() || path == "/v2") {
            return Err(format!(
                "{} has a path; give only a scheme, a host and an optional port (and /v2)",
                quoted_url(url)
            ));
        }
        let default_port = if origin.scheme == "https" { 443 } else { 80 };
        let host = if origin.host.contains(':') {
            format!("[{}]", origin.host)
        } else {
            origin.host.clone()
        };
        let text = if origin.port == default_port {
            format!("{}://{host}", origin.scheme)
        } else {
            format!("{}://{host}:{}", origin.scheme, origin.port)
        };
        Ok(BaseUrl { origin, text })
    }

    /// The origin requests to this base go to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The normalised URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The URL of `path` (which starts with `/`) on this base.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.text)
    }

    /// Whether the host is this machine: `localhost`, 127.0.0.0/8 or `::1`.
    pub fn is_loopback(&self) -> bool {
        let host = self.origin.host.as_str();
        // Only the exact name: a resolver need not send `*.localhost` to this machine.
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether a secret may travel to this base: over TLS, or to this machine (where
    /// `dockhand mock` listens) over plain http.
    pub fn carries_secrets(&self) -> bool {
        dockhand_api::carries_secrets(&self.origin.scheme, &self.origin.host)
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(&str, u16)> {
    // Bracketed IPv6 literals carry colons of their own.
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((host, port.parse().ok()?)),
            None if after.is_empty() => Some((host, default_port)),
            None => None,
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host, port.parse().ok()?)),
        None => Some((authority, default_port)),
    }
}

/// Timeouts on the HTTP exchange, and the whole call's deadline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// DNS plus TCP connect.
    pub connect: Duration,
    /// From sending the request to the response head.
    pub first_byte: Duration,
    /// Between two pieces of the response body.
    pub between_bytes: Duration,
    /// The whole call, pagination included.
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        // wasmtime's default sender waits 600 s for each; a Hub call that takes a minute has failed.
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
            call: Duration::from_secs(120),
        }
    }
}

/// The rules every call runs under.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Where requests may go. Credentials are attached only on these.
    pub allowed: Vec<Origin>,
    /// Refuse operations the catalog marks `write` before anything is sent.
    pub read_only: bool,
    /// How long each stage of an exchange, and the whole call, may take.
    pub timeouts: Timeouts,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// Largest linear memory one instance may grow to, in bytes.
    pub max_memory_bytes: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allowed: vec![Origin::parse(DEFAULT_BASE_URL).expect("the default base URL parses")],
            read_only: false,
            timeouts: Timeouts::default(),
            max_response_bytes: 16 * 1024 * 1024,
            max_memory_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Policy {
    /// The default policy for one base URL: only its origin is allowed.
    pub fn for_base_url(base_url: &str) -> Result<Policy, String> {
        Ok(Policy {
            allowed: vec![Origin::parse(base_url)?],
            ..Policy::default()
        })
    }

    /// Whether a request to `scheme` and `authority` (as in a request URI) may be sent: it goes
    /// to one of the allowed origins.
    pub fn allows(&self, scheme: &str, authority: &str) -> bool {
        self.allowed.iter().any(|o| o.matches(scheme, authority))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_with_default_ports() {
        let o = Origin::parse("https://hub.docker.com").unwrap();
        assert_eq!(o.to_string(), "https://hub.docker.com:443");
        let o = Origin::parse("http://127.0.0.1:8080/v2").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("127.0.0.1", 8080));
        let o = Origin::parse("http://[::1]:9/").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("::1", 9));
        assert!(Origin::parse("ftp://x").is_err());
        assert!(Origin::parse("https://user@evil").is_err());
        assert!(Origin::parse("https://x:notaport").is_err());
        // Hosts the HTTP stack would read differently, found by fuzzing.
        for bad in [
            "http://:80",
            "http://:[:2]:9",
            "http://a]:b:80",
            "http://a :80",
            "http://[zz]:1",
            "http://a%2eb",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_urls_are_normalised_once() {
        let base = |u: &str| BaseUrl::parse(u).map(|b| b.to_string());
        assert_eq!(
            base("https://hub.docker.com").unwrap(),
            "https://hub.docker.com"
        );
        assert_eq!(
            base("https://hub.docker.com/v2").unwrap(),
            "https://hub.docker.com"
        );
        assert_eq!(
            base("https://HUB.docker.com:443/v2/").unwrap(),
            "https://hub.docker.com"
        );
        assert_eq!(
            base(" http://127.0.0.1:8080/ ").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(base("http://[::1]:9/v2").unwrap(), "http://[::1]:9");
        assert_eq!(
            BaseUrl::parse("https://hub.docker.com/v2")
                .unwrap()
                .join("/v2/auth/token"),
            "https://hub.docker.com/v2/auth/token"
        );
        assert!(base("https://hub.docker.com/api").is_err());
        assert!(base("https://hub.docker.com/v2/x").is_err());
        assert!(base("https://hub.docker.com?x=1").is_err());
        assert!(base("https://u:p@hub.docker.com").is_err());
        assert_eq!(
            BaseUrl::docker_hub(),
            BaseUrl::parse("https://hub.docker.com/").unwrap()
        );
    }

    #[test]
    fn urls_in_errors_keep_no_secret() {
        for (url, hidden) in [
            ("https://alice:dckr_pat_x@hub.docker.com", "dckr_pat_x"),
            ("https://hub.docker.com/v2?token=dckr_pat_y", "dckr_pat_y"),
            ("https://hub.docker.com/api#dckr_pat_z", "dckr_pat_z"),
            ("dckr_pat_w", "dckr_pat_w"),
            ("ftp://u:dckr_pat_v@x", "dckr_pat_v"),
            ("https://u:dckr_pat_u@x:notaport", "dckr_pat_u"),
            ("https://dan:dckr_pat_t/word@mirror.example", "dckr_pat_t"),
        ] {
            let message = BaseUrl::parse(url).unwrap_err();
            assert!(!message.contains(hidden), "{message}");
        }
        assert_eq!(
            quoted_url("https://a:b@hub.docker.com/x?y"),
            "`https://***@hub.docker.com/x?***`"
        );
        assert_eq!(quoted_url("http://h:1/p"), "`http://h:1/p`");
        assert_eq!(
            quoted_url("https://dan:pa55/word@mirror.example"),
            "`https://***@mirror.example`"
        );
    }

    #[test]
    fn secrets_travel_over_tls_or_to_this_machine_only() {
        let carries = |u: &str| BaseUrl::parse(u).unwrap().carries_secrets();
        assert!(carries("https://hub.docker.com"));
        assert!(carries("https://10.0.0.1:8443"));
        assert!(carries("http://127.0.0.1:8080"));
        assert!(carries("http://127.8.9.10"));
        assert!(carries("http://localhost:1"));
        assert!(carries("http://[::1]:1"));
        assert!(!carries("http://hub.docker.com"));
        assert!(!carries("http://10.0.0.1"));
        assert!(!carries("http://127.0.0.1.evil.example"));
        assert!(!carries("http://localhost.evil.example"));
        assert!(!carries("http://a.localhost"));
        assert!(!carries("http://[::2]:1"));
    }

    #[test]
    fn the_allow_list_is_exact_on_scheme_host_and_port() {
        let p = Policy::default();
        assert!(p.allows("https", "hub.docker.com"));
        assert!(p.allows("https", "hub.docker.com:443"));
        assert!(p.allows("HTTPS", "HUB.docker.com"));
        assert!(!p.allows("http", "hub.docker.com"));
        assert!(!p.allows("https", "hub.docker.com:8443"));
        assert!(!p.allows("https", "hub.docker.com.evil.example"));
        assert!(!p.allows("https", "evil.example"));
        assert!(!p.allows("https", "auth.docker.io"));
    }
}
