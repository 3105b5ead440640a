//! Decodes an HTTP response into a JSON result or a typed error.

use crate::prelude::*;

use crate::catalog::Method;
use crate::error::{HubError, RateLimit};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    pub fn rate_limit(&self) -> Option<RateLimit> {
        let num = |name| self.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let rl = RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset: num("x-ratelimit-reset"),
        };
        (!rl.is_empty()).then_some(rl)
    }
}

/// A successful response, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: JsonText,
    pub rate_limit: Option<RateLimit>,
}

/// A JSON document kept as text. A call passes the Hub's answer on as it came, once it has
/// checked that it is JSON: parsing it into a tree and printing it again (for the host to parse
/// a third time) would be most of the component's own work per call (BENCHMARKS.md, round 4).
/// Only page-following, which must look inside, builds the tree.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonText(String);

impl JsonText {
    /// Checks that `bytes` hold one JSON document (UTF-8, nothing after it but whitespace)
    /// without building it.
    pub fn parse(bytes: Vec<u8>) -> Result<JsonText, String> {
        let text = String::from_utf8(bytes).map_err(|e| e.utf8_error().to_string())?;
        serde_json::from_str::<serde::de::IgnoredAny>(&text).map_err(|e| e.to_string())?;
        Ok(JsonText(text))
    }

    pub fn from_value(value: &Value) -> JsonText {
        JsonText(value.to_string())
    }

    /// The document as a tree. The check when it was made is looser than building the tree,
    /// which also refuses numbers beyond f64 and nesting deeper than 128.
    pub fn to_value(&self) -> Result<Value, HubError> {
        serde_json::from_str(&self.0)
            .map_err(|e| HubError::Decode(format!("response JSON cannot be read as a tree: {e}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Decodes `resp` for a request made with `method`. `now_unix` is asked only when an error
/// carries the older `X-Retry-After` (an instant) to turn into seconds to wait, so decoding a
/// success reads no clock.
pub fn decode(
    method: Method,
    resp: HttpResponse,
    now_unix: impl FnOnce() -> u64,
) -> Result<Decoded, HubError> {
    let accepted =
        (200..=299).contains(&resp.status) || (method == Method::Head && resp.status == 404);
    if !accepted {
        return Err(error_for(&resp, now_unix));
    }
    Ok(Decoded {
        status: resp.status,
        content_type: resp.content_type().map(str::to_string),
        rate_limit: resp.rate_limit(),
        body: accepted_body(method, resp)?,
    })
}

/// The result an accepted answer carries.
fn accepted_body(method: Method, resp: HttpResponse) -> Result<JsonText, HubError> {
    let status = resp.status;
    if method == Method::Head {
        return Ok(JsonText::from_value(&json!({"exists": status != 404})));
    }
    if status == 204 || resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(JsonText::from_value(&Value::Null));
    }
    let content_type = resp.content_type().unwrap_or("application/json");
    if is_json(content_type) {
        return JsonText::parse(resp.body)
            .map_err(|e| HubError::Decode(format!("{status} response is not valid JSON: {e}")));
    }
    let text = core::str::from_utf8(&resp.body)
        .map_err(|_| HubError::Decode(format!("{content_type} response is not UTF-8 text")))?;
    let body = json!({"body": text, "content_type": content_type});
    Ok(JsonText::from_value(&body))
}

/// `application/json`, `application/scim+json`, any `+json`, with or without parameters.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn error_for(resp: &HttpResponse, now_unix: impl FnOnce() -> u64) -> HubError {
    let mut message = message_of(resp);
    // The first step of a two-factor login answers 401 with the challenge token the second
    // step needs; dropping it would make `login_second_factor` unusable.
    if let Ok(v) = serde_json::from_slice::<Value>(&resp.body)
        && let Some(token) = v.get("login_2fa_token").and_then(Value::as_str)
    {
        message.push_str(" (login_2fa_token: ");
        message.push_str(token);
        message.push(')');
    }
    match resp.status {
        401 => HubError::Unauthorized(message),
        403 => HubError::Forbidden(message),
        404 => HubError::NotFound(message),
        409 => HubError::Conflict(message),
        429 => HubError::RateLimited {
            retry_after: retry_after(resp, now_unix),
            rate_limit: resp.rate_limit(),
        },
        status => HubError::Upstream { status, message },
    }
}

/// Seconds to wait: `Retry-After` (seconds) as the Hub sends it now, else the older
/// `X-Retry-After` (a unix time).
pub fn retry_after(resp: &HttpResponse, now_unix: impl FnOnce() -> u64) -> Option<u64> {
    if let Some(secs) = resp
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(secs);
    }
    resp.header("x-retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|at| at.saturating_sub(now_unix()))
}

/// The Hub's explanation: a JSON body's `message`, `detail`, `error`, `errinfo` or first of
/// `errors`, else the text itself (shortened), else the status line's meaning.
fn message_of(resp: &HttpResponse) -> String {
    const MAX: usize = 500;
    if let Ok(v) = serde_json::from_slice::<Value>(&resp.body) {
        for key in ["message", "detail", "error_description", "error", "errinfo"] {
            match v.get(key) {
                Some(Value::String(s)) if !s.is_empty() => return shorten(s, MAX),
                Some(Value::Object(o)) if !o.is_empty() => {
                    return shorten(&Value::Object(o.clone()).to_string(), MAX);
                }
                _ => {}
            }
        }
        if let Some(first) = v
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            let text = first
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| first.to_string());
            return shorten(&text, MAX);
        }
    }
    match core::str::from_utf8(&resp.body) {
        Ok(text) if !text.trim().is_empty() => shorten(text.trim(), MAX),
        _ => format!("HTTP {}", resp.status),
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    /// The tree a successful decode of `r` carries.
    fn decoded_value(method: Method, r: HttpResponse) -> Value {
        decode(method, r, || 0).unwrap().body.to_value().unwrap()
    }

    #[test]
    fn json_bodies_decode_as_json() {
        let r = resp(
            200,
            &[("content-type", "application/json; charset=utf-8")],
            r#"{"count": 1}"#,
        );
        assert_eq!(decoded_value(Method::Get, r), json!({"count": 1}));
        let r = resp(
            200,
            &[("content-type", "application/scim+json")],
            r#"{"totalResults": 0}"#,
        );
        assert_eq!(decoded_value(Method::Get, r)["totalResults"], json!(0));
    }

    #[test]
    fn other_content_types_come_back_as_text_with_their_type() {
        let r = resp(200, &[("content-type", "text/csv")], "Name,Email\nal,a@x\n");
        assert_eq!(
            decoded_value(Method::Get, r),
            json!({"body": "Name,Email\nal,a@x\n", "content_type": "text/csv"})
        );
        let bad = HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/csv".into())],
            body: vec![0xff, 0xfe],
        };
        assert!(matches!(
            decode(Method::Get, bad, || 0),
            Err(HubError::Decode(_))
        ));
    }

    #[test]
    fn head_checks_answer_exists() {
        assert_eq!(
            decoded_value(Method::Head, resp(200, &[], "")),
            json!({"exists": true})
        );
        assert_eq!(
            decoded_value(Method::Head, resp(404, &[], "")),
            json!({"exists": false})
        );
        assert!(matches!(
            decode(Method::Head, resp(401, &[], ""), || 0),
            Err(HubError::Unauthorized(_))
        ));
    }

    #[test]
    fn no_content_is_null() {
        assert_eq!(
            decoded_value(Method::Delete, resp(204, &[], "")),
            Value::Null
        );
        assert_eq!(
            decoded_value(
                Method::Post,
                resp(200, &[("content-type", "application/json")], "")
            ),
            Value::Null
        );
    }

    #[test]
    fn malformed_json_is_a_decode_error() {
        let json = [("content-type", "application/json")];
        for text in [r#"{"count": "#, r#"{"count": 1} trailing"#, "{} {}", "nul"] {
            assert!(
                matches!(
                    decode(Method::Get, resp(200, &json, text), || 0),
                    Err(HubError::Decode(_))
                ),
                "{text:?} was accepted"
            );
        }
        let not_utf8 = HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{\"name\": \"\xff\"}".to_vec(),
        };
        assert!(matches!(
            decode(Method::Get, not_utf8, || 0),
            Err(HubError::Decode(_))
        ));
    }

    #[test]
    fn json_answers_pass_through_as_sent() {
        let text = "{\n  \"name\": \"caf\\u00e9\",\n  \"pull_count\": 1e3,\n  \"tags\": []\n}\n";
        let r = resp(200, &[("content-type", "application/json")], text);
        assert_eq!(decode(Method::Get, r, || 0).unwrap().body.as_str(), text);
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let e =
            |status, body: &str| decode(Method::Get, resp(status, &[], body), || 0).unwrap_err();
        assert_eq!(
            e(401, r#"{"detail": "token expired"}"#),
            HubError::Unauthorized("token expired".into())
        );
        assert_eq!(
            e(
                403,
                r#"{"message": "token issued from personal access token"}"#
            ),
            HubError::Forbidden("token issued from personal access token".into())
        );
        assert_eq!(
            e(404, r#"{"message": "object not found"}"#),
            HubError::NotFound("object not found".into())
        );
        assert_eq!(
            e(409, r#"{"errinfo": {"name": "taken"}}"#),
            HubError::Conflict(r#"{"name":"taken"}"#.into())
        );
        assert_eq!(
            e(500, "boom"),
            HubError::Upstream {
                status: 500,
                message: "boom".into()
            }
        );
        assert_eq!(
            e(502, ""),
            HubError::Upstream {
                status: 502,
                message: "HTTP 502".into()
            }
        );
        assert_eq!(
            e(400, r#"{"errors": [{"message": "bad name"}]}"#),
            HubError::Upstream {
                status: 400,
                message: "bad name".into()
            }
        );
    }

    #[test]
    fn a_two_factor_challenge_keeps_its_token() {
        let r = resp(
            401,
            &[],
            r#"{"detail": "2FA required", "login_2fa_token": "abc_123"}"#,
        );
        assert_eq!(
            decode(Method::Post, r, || 0).unwrap_err(),
            HubError::Unauthorized("2FA required (login_2fa_token: abc_123)".into())
        );
    }

    #[test]
    fn rate_limited_with_retry_after_seconds() {
        let r = resp(
            429,
            &[
                ("retry-after", "17"),
                ("x-ratelimit-limit", "180"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000060"),
            ],
            "",
        );
        assert_eq!(
            decode(Method::Get, r, || 1_700_000_000).unwrap_err(),
            HubError::RateLimited {
                retry_after: Some(17),
                rate_limit: Some(RateLimit {
                    limit: Some(180),
                    remaining: Some(0),
                    reset: Some(1_700_000_060)
                }),
            }
        );
    }

    #[test]
    fn rate_limited_with_the_older_unix_time_header() {
        let r = resp(429, &[("x-retry-after", "1700000045")], "");
        assert_eq!(
            decode(Method::Get, r, || 1_700_000_000).unwrap_err(),
            HubError::RateLimited {
                retry_after: Some(45),
                rate_limit: None
            }
        );
        // An instant already past means "now".
        let r = resp(429, &[("x-retry-after", "10")], "");
        assert!(matches!(
            decode(Method::Get, r, || 1_700_000_000),
            Err(HubError::RateLimited {
                retry_after: Some(0),
                ..
            })
        ));
    }

    #[test]
    fn rate_limit_snapshot_on_success() {
        let r = resp(
            200,
            &[
                ("content-type", "application/json"),
                ("x-ratelimit-remaining", "99"),
            ],
            "{}",
        );
        assert_eq!(
            decode(Method::Get, r, || 0).unwrap().rate_limit,
            Some(RateLimit {
                limit: None,
                remaining: Some(99),
                reset: None
            })
        );
    }

    #[test]
    fn long_messages_are_shortened_on_a_char_boundary() {
        let long = "é".repeat(400);
        match decode(Method::Get, resp(500, &[], &long), || 0).unwrap_err() {
            HubError::Upstream { message, .. } => {
                assert!(message.len() <= 504 && message.ends_with('…'))
            }
            other => panic!("{other:?}"),
        }
    }
}
