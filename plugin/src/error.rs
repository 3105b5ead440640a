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

    /// The error in the vocabulary every surface renders (`dockhand-api`).
    pub fn problem(&self) -> dockhand_api::Problem<'_> {
        use dockhand_api::Problem;
        match self {
            HubError::InvalidArgument { name, reason } => Problem::InvalidArgument { name, reason },
            HubError::UnknownOperation(m) => Problem::UnknownOperation(m),
            HubError::Unauthorized(m) => Problem::Unauthorized(m),
            HubError::Forbidden(m) => Problem::Forbidden(m),
            HubError::NotFound(m) => Problem::NotFound(m),
            HubError::Conflict(m) => Problem::Conflict(m),
            HubError::RateLimited {
                retry_after,
                rate_limit,
            } => Problem::RateLimited {
                retry_after: *retry_after,
                limit: rate_limit.and_then(|r| r.limit),
                remaining: rate_limit.and_then(|r| r.remaining),
                reset: rate_limit.and_then(|r| r.reset),
                rate_limit: rate_limit.is_some(),
            },
            HubError::Upstream { status, message } => Problem::Upstream {
                status: *status,
                message,
            },
            HubError::Transport { kind, message } => Problem::Transport {
                kind: kind.as_str(),
                message,
            },
            HubError::Denied(m) => Problem::Denied(m),
            HubError::Decode(m) => Problem::Decode(m),
        }
    }

    /// A short stable name for the case, as used in JSON error output.
    pub fn kind(&self) -> &'static str {
        self.problem().kind()
    }
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem().describe())
    }
}

impl core::error::Error for HubError {}
