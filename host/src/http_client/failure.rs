//! What failed on the way to an answer, decided where the error is still in hand: the
//! resolver's own error type marks a DNS failure, rustls' marks TLS, the operating system's
//! error kinds mark a refused, reset or timed-out connection, and hyper's own predicates mark
//! a connection that closed mid-answer. Nothing here reads an error's text.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::{GaiAddrs, GaiResolver, Name};
use tower_service::Service;

/// The kind of a failed exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The host name could not be resolved.
    Dns,
    /// Nothing accepted the connection (or no route led there).
    Refused,
    /// Connecting, or waiting for the peer, took too long.
    Timeout,
    /// The TLS handshake failed (certificate, protocol, alert).
    Tls,
    /// The peer closed or reset the connection before the answer was complete.
    Closed,
    /// The peer spoke something other than HTTP/1.1.
    Protocol,
    /// None of the above.
    Other,
}

impl Failure {
    /// Classifies `error` by the types along its chain of sources.
    pub fn of(error: &(dyn StdError + 'static)) -> Failure {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(kind) = Failure::of_one(e) {
                return kind;
            }
            // io::Error's `source` skips the error it wraps; look at that one too.
            if let Some(inner) = e.downcast_ref::<io::Error>().and_then(io::Error::get_ref)
                && let Some(kind) = Failure::of(inner).known()
            {
                return kind;
            }
            next = e.source();
        }
        Failure::Other
    }

    fn of_one(e: &(dyn StdError + 'static)) -> Option<Failure> {
        if e.is::<DnsFailure>() {
            return Some(Failure::Dns);
        }
        if e.is::<rustls::Error>() {
            return Some(Failure::Tls);
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::ConnectionRefused
                | io::ErrorKind::HostUnreachable
                | io::ErrorKind::NetworkUnreachable
                | io::ErrorKind::AddrNotAvailable => Some(Failure::Refused),
                io::ErrorKind::TimedOut => Some(Failure::Timeout),
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => Some(Failure::Closed),
                _ => None,
            };
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return Some(Failure::Closed);
            }
            if h.is_parse() || h.is_parse_status() {
                return Some(Failure::Protocol);
            }
            if h.is_timeout() {
                return Some(Failure::Timeout);
            }
        }
        None
    }

    fn known(self) -> Option<Failure> {
        (self != Failure::Other).then_some(self)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Failure::Dns => "the host name could not be resolved",
            Failure::Refused => "the connection was refused",
            Failure::Timeout => "timed out",
            Failure::Tls => "the TLS handshake failed",
            Failure::Closed => "the connection closed early",
            Failure::Protocol => "the server's answer is not HTTP/1.1",
            Failure::Other => "the exchange failed",
        })
    }
}

/// The resolver's error, as its own type, so that a DNS failure is known as one wherever it
/// ends up in a connector's chain of errors.
#[derive(Debug)]
pub struct DnsFailure(io::Error);

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "resolving the host name failed: {}", self.0)
    }
}

impl StdError for DnsFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

/// hyper-util's getaddrinfo resolver with its errors marked as [`DnsFailure`].
#[derive(Clone)]
pub(crate) struct Resolver(GaiResolver);

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver(GaiResolver::new())
    }
}

impl Service<Name> for Resolver {
    type Response = GaiAddrs;
    type Error = DnsFailure;
    type Future = Pin<Box<dyn Future<Output = Result<GaiAddrs, DnsFailure>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), DnsFailure>> {
        self.0.poll_ready(cx).map_err(DnsFailure)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let lookup = self.0.call(name);
        Box::pin(async move { lookup.await.map_err(DnsFailure) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_known_by_type_not_by_text() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(Failure::of(&refused), Failure::Refused);
        let dns = DnsFailure(io::Error::other("no such host"));
        assert_eq!(Failure::of(&dns), Failure::Dns);
        // Wrapped the way connectors wrap them.
        let wrapped = io::Error::other(DnsFailure(io::Error::other("x")));
        assert_eq!(Failure::of(&wrapped), Failure::Dns);
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Expired),
        );
        assert_eq!(Failure::of(&tls), Failure::Tls);
        // A message that merely mentions a cause is not that cause.
        let liar = io::Error::other("dns timeout tls reset");
        assert_eq!(Failure::of(&liar), Failure::Other);
    }
}
