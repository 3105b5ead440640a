//! The typed errors of a call: the native mirror of the WIT `hub-error` variant.

use crate::prelude::*;

use core::fmt;

/// The Hub's `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<u64>,
}

impl RateLimit {
    pub fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }
}

/// How a request failed below HTTP; the WIT `transport-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Dns,
    ConnectionRefused,
    ConnectionReset,
    Timeout,
    Tls,
    Protocol,
    BodyTooLarge,
    Other,
}

impl TransportKind {
    /// The WIT spelling (`connection-reset`), which the JSON renderings use too.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Dns => "dns",
            TransportKind::ConnectionRefused => "connection-refused",
            TransportKind::ConnectionReset => "connection-reset",
            TransportKind::Timeout => "timeout",
            TransportKind::Tls => "tls",
            TransportKind::Protocol => "protocol",
            TransportKind::BodyTooLarge => "body-too-large",
            TransportKind::Other => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum HubError {
    InvalidArgument {
        name: String,
        reason: String,
    },
    UnknownOperation(String),
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    RateLimited {
        retry_after: Option<u64>,
        rate_limit: Option<RateLimit>,
    },
    Upstream {
        status: u16,
        message: String,
    },
    Transport {
        kind: TransportKind,
        message: String,
    },
    Denied(String),
    Decode(String),
}

impl HubError {
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> HubError {
        HubError::InvalidArgument {
            name: name.into(),
            reason: reason.into(),
        }
    }

    pub fn transport(kind: TransportKind, message: impl Into<String>) -> HubError {
        HubError::Transport {
            kind,
            message: message.into(),
        }
    }

    /// A short stable name for the case, as used in JSON error output.
    pub fn kind(&self) -> &'static str {
        match self {
            HubError::InvalidArgument { .. } => "invalid-argument",
            HubError::UnknownOperation(_) => "unknown-operation",
            HubError::Unauthorized(_) => "unauthorized",
            HubError::Forbidden(_) => "forbidden",
            HubError::NotFound(_) => "not-found",
            HubError::Conflict(_) => "conflict",
            HubError::RateLimited { .. } => "rate-limited",
            HubError::Upstream { .. } => "upstream",
            HubError::Transport { .. } => "transport",
            HubError::Denied(_) => "denied",
            HubError::Decode(_) => "decode",
        }
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubError::InvalidArgument { name, reason } => {
                write!(f, "invalid argument `{name}`: {reason}")
            }
            HubError::UnknownOperation(m) => write!(f, "unknown operation: {m}"),
            HubError::Unauthorized(m) => write!(f, "unauthorized (401): {m}"),
            HubError::Forbidden(m) => write!(f, "forbidden (403): {m}"),
            HubError::NotFound(m) => write!(f, "not found (404): {m}"),
            HubError::Conflict(m) => write!(f, "conflict (409): {m}"),
            HubError::RateLimited { retry_after, .. } => match retry_after {
                Some(s) => write!(f, "rate limited (429): retry after {s} s"),
                None => write!(f, "rate limited (429)"),
            },
            HubError::Upstream { status, message } => write!(f, "Hub answered {status}: {message}"),
            HubError::Transport { kind, message } => {
                write!(f, "transport error ({}): {message}", kind.as_str())
            }
            HubError::Denied(m) => write!(f, "denied by host policy: {m}"),
            HubError::Decode(m) => write!(f, "could not decode the response: {m}"),
        }
    }
}

impl core::error::Error for HubError {}
