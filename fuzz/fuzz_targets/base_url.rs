//! Any text as a base URL, and any authority a request could name, through the host's egress
//! policy: `BaseUrl::parse`, `Origin::parse`, `BaseUrl::carries_secrets` and `Policy::allows`.
//! Never a panic, and:
//!
//! - an accepted base URL has a host and is normalised once: it parses back to itself, with the
//!   same origin `Origin::parse` gives;
//! - it may carry a secret only over https or to this machine (`localhost`, 127.0.0.0/8, `::1`);
//! - the policy made for it allows its own origin, with its port or (at the scheme's default
//!   port only) without;
//! - a request URL built on it goes, as the `http` crate (and so the HTTP client) reads it, to
//!   the host and port the policy checked;
//! - whatever authority a request names, the policy allows it only when the `http` crate reads
//!   the same host and port as an allowed origin's.
//!
//! Input: the base URL up to the first newline, then a request's authority.

#![no_main]

use dockhand_host::policy::{BaseUrl, Origin, Policy};
use http::uri::{Authority, Uri};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fn default_port(scheme: &str) -> u16 {
    if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    }
}

/// `[::1]` as the `http` crate gives an IPv6 host, `::1` as `Origin` keeps it.
fn unbracket(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Whether the `http` crate's reading of a request's authority is an origin the policy allows.
fn reaches_allowed(policy: &Policy, scheme: &str, authority: &Authority) -> bool {
    let port = authority.port_u16().unwrap_or(default_port(scheme));
    policy.allowed.iter().any(|o| {
        o.scheme.eq_ignore_ascii_case(scheme)
            && o.host.eq_ignore_ascii_case(unbracket(authority.host()))
            && o.port == port
    })
}

fn check_base(text: &str, base: &BaseUrl) {
    let origin = base.origin();
    assert_eq!(Origin::parse(text).as_ref(), Ok(origin), "{text:?}");
    assert!(matches!(origin.scheme.as_str(), "http" | "https"));
    assert!(!origin.host.is_empty(), "{text:?} is accepted with no host");
    assert_eq!(origin.host, origin.host.to_ascii_lowercase());
    assert_eq!(base.to_string(), base.as_str());
    assert!(!base.as_str().ends_with('/'));
    assert_eq!(
        BaseUrl::parse(base.as_str()).as_ref(),
        Ok(base),
        "{text:?} normalises to {:?}, which does not parse back to it",
        base.as_str()
    );

    if base.carries_secrets() {
        let loopback = origin.host == "localhost"
            || origin
                .host
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        assert!(
            origin.scheme == "https" || loopback,
            "{text:?} carries secrets over plain http to {:?}",
            origin.host
        );
    }

    // As `Dockhand::new` makes it.
    let policy = Policy {
        allowed: vec![origin.clone()],
        ..Policy::default()
    };
    assert_eq!(Policy::for_base_url(text).as_ref(), Ok(&policy));
    let host = if origin.host.contains(':') {
        format!("[{}]", origin.host)
    } else {
        origin.host.clone()
    };
    let at_default_port = origin.port == default_port(&origin.scheme);
    assert_eq!(
        policy.allows(&origin.scheme, &host),
        at_default_port,
        "{text:?}"
    );
    assert!(
        policy.allows(&origin.scheme, &format!("{host}:{}", origin.port)),
        "{text:?}"
    );

    // The HTTP client parses the request URL the component builds on this base; where that
    // URL goes must be where the policy looked. A URL the `http` crate refuses sends nothing.
    if let Ok(uri) = base.join("/v2/auth/token").parse::<Uri>() {
        let scheme = uri.scheme_str().expect("an absolute URL has a scheme");
        let authority = uri.authority().expect("an absolute URL has an authority");
        assert!(
            reaches_allowed(&policy, scheme, authority),
            "{text:?}: requests built on {:?} go to {authority}, which is not {origin}",
            base.as_str()
        );
        assert!(policy.allows(scheme, authority.as_str()), "{text:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (url, authority) = text.split_once('\n').unwrap_or((&text, ""));

    if let Ok(base) = BaseUrl::parse(url) {
        check_base(url, &base);
    }
    let policy = Policy::for_base_url(url).unwrap_or_default();

    for scheme in ["http", "https", "HTTPS"] {
        let allowed = policy.allows(scheme, authority);
        // The send hook checks the authority of a request the `http` crate has parsed.
        if allowed && let Ok(parsed) = authority.parse::<Authority>() {
            assert!(
                reaches_allowed(&policy, scheme, &parsed),
                "{scheme}://{authority:?} is allowed, but the HTTP client would reach {}:{:?}",
                parsed.host(),
                parsed.port_u16()
            );
        }
    }
});
