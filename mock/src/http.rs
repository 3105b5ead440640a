//! The request and reply types the handlers see, the Hub's error bodies, and JSON field checks.
//!
//! Handlers are synchronous functions from a fully read [`Request`] to a [`Reply`]; the server
//! layer owns sockets, timing and faults, so nothing here knows about connections.

use bytes::Bytes;
use hyper::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value, json};

pub(crate) const JSON: &str = "application/json";
pub(crate) const SCIM_JSON: &str = "application/scim+json";
pub(crate) const CSV: &str = "text/csv";
pub(crate) const SCIM_ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A request as the handlers need it: already read in full, path still raw.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: Method,
    pub raw_path: String,
    pub raw_query: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `http://host:port` (`https://` over TLS) as the client addressed the mock, for absolute
    /// links.
    pub origin: String,
    pub now: u64,
}

impl Request {
    pub(crate) fn new(
        method: Method,
        raw_path: String,
        raw_query: Option<String>,
        headers: HeaderMap,
        body: Bytes,
        origin: String,
        now: u64,
    ) -> Request {
        let query = raw_query
            .as_deref()
            .map(|q| {
                q.split('&')
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        (form_decode(k), form_decode(v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Request {
            method,
            raw_path,
            raw_query,
            query,
            headers,
            body,
            origin,
            now,
        }
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type without parameters, lowercased.
    fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// The JSON object body of a JSON route. An empty body counts as missing, a wrong media type
    /// as 415, and text that is not JSON as 400.
    pub(crate) fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        self.object_body(JSON)
    }

    /// Like [`Request::json_object`] but the body must be declared `application/scim+json`.
    pub(crate) fn scim_object(&self) -> Result<Map<String, Value>, ApiError> {
        self.object_body(SCIM_JSON)
    }

    fn object_body(&self, media: &str) -> Result<Map<String, Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("a JSON request body is required"));
        }
        match self.media_type() {
            Some(m) if m == media => {}
            Some(m) => {
                return Err(ApiError::unsupported_media_type(format!(
                    "Content-Type must be {media}, got {m}"
                )));
            }
            None => {
                return Err(ApiError::unsupported_media_type(format!(
                    "Content-Type must be {media}"
                )));
            }
        }
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))?;
        match value {
            Value::Object(map) => Ok(map),
            _ => Err(ApiError::bad_request("request body must be a JSON object")),
        }
    }
}

/// `application/x-www-form-urlencoded` decoding of one query key or value.
fn form_decode(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// What a handler answers; the server adds the rate-limit headers and applies faults.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, value: &Value) -> Reply {
        Reply::typed(status, JSON, value)
    }

    pub(crate) fn ok(value: &Value) -> Reply {
        Reply::json(StatusCode::OK, value)
    }

    pub(crate) fn scim(status: StatusCode, value: &Value) -> Reply {
        Reply::typed(status, SCIM_JSON, value)
    }

    fn typed(status: StatusCode, content_type: &'static str, value: &Value) -> Reply {
        Reply {
            status,
            content_type: Some(content_type),
            headers: Vec::new(),
            body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
        }
    }

    pub(crate) fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// A failed request, rendered as the Hub's JSON error or as a SCIM error.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<String>,
    pub scim_type: Option<&'static str>,
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            field: None,
            scim_type: None,
            allow: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 400 that names the offending field, in both `fields` and the message.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::bad_request(message);
        e.field = Some(field.to_string());
        e
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }

    pub(crate) fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
    }

    pub(crate) fn method_not_allowed(allow: &'static str) -> ApiError {
        let mut e = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        e.allow = Some(allow);
        e
    }

    pub(crate) fn scim_type(mut self, scim_type: &'static str) -> ApiError {
        self.scim_type = Some(scim_type);
        self
    }

    pub(crate) fn into_reply(self, scim: bool) -> Reply {
        let reply = if scim {
            let mut body = json!({
                "schemas": [SCIM_ERROR_URN],
                "status": self.status.as_u16().to_string(),
                "detail": self.message,
            });
            if let Some(t) = self.scim_type {
                body["scimType"] = json!(t);
            }
            Reply::scim(self.status, &body)
        } else {
            let mut body = json!({"message": self.message, "detail": self.message});
            if let Some(f) = &self.field {
                body["fields"] = json!({ f.as_str(): [self.message.clone()] });
                body["errinfo"] = json!({ "field": f });
            }
            Reply::json(self.status, &body)
        };
        match self.allow {
            Some(allow) => reply.with_header("allow", allow),
            None => reply,
        }
    }
}

// Field checks: each names the field, so a client's error says what to fix.

pub(crate) fn req_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(ApiError::field(
            name,
            format!("{name}: this field is required"),
        )),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::field(name, format!("{name}: must be a string"))),
    }
}

pub(crate) fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::field(name, format!("{name}: must be a string"))),
    }
}

pub(crate) fn req_bool(obj: &Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(ApiError::field(
            name,
            format!("{name}: this field is required"),
        )),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::field(name, format!("{name}: must be a boolean"))),
    }
}

pub(crate) fn opt_bool(obj: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::field(name, format!("{name}: must be a boolean"))),
    }
}

pub(crate) fn req_i64(obj: &Map<String, Value>, name: &str) -> Result<i64, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(ApiError::field(
            name,
            format!("{name}: this field is required"),
        )),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| ApiError::field(name, format!("{name}: must be an integer"))),
        Some(_) => Err(ApiError::field(name, format!("{name}: must be an integer"))),
    }
}

fn str_list(name: &str, value: &Value) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::field(
            name,
            format!("{name}: must be an array of strings"),
        ));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            _ => Err(ApiError::field(
                name,
                format!("{name}: must be an array of strings"),
            )),
        })
        .collect()
}

pub(crate) fn req_str_list(obj: &Map<String, Value>, name: &str) -> Result<Vec<String>, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Err(ApiError::field(
            name,
            format!("{name}: this field is required"),
        )),
        Some(v) => str_list(name, v),
    }
}

/// An optional array of objects, returned as they are (for `resources` lists).
pub(crate) fn opt_object_list(
    obj: &Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<Map<String, Value>>>, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m.clone()),
                _ => Err(ApiError::field(
                    name,
                    format!("{name}: must be an array of objects"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::field(
            name,
            format!("{name}: must be an array of objects"),
        )),
    }
}
