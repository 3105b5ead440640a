//! The only code that speaks `wasi:http` on the incoming side: reads the request the engine
//! hands over, asks [`crate::answer`] what to answer, and writes that back. Outgoing requests
//! go through the plugin core's `wasip2` transport, behind the egress rule.

use crate::answer::{self, Answer, Hub, Request};
use crate::credentials::EnvCredentials;
use crate::egress::{OriginOnly, Secrets};
use crate::settings::Settings;
use dockhand_plugin_core::client::{self, CallOptions, CredentialKind, Credentials, Transport};
use dockhand_plugin_core::wasip2::{WasiClock, WasiHttp};
use wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Gateway;

wasi::http::proxy::export!(Gateway);

impl wasi::exports::http::incoming_handler::Guest for Gateway {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Head => "HEAD".to_string(),
            Method::Post => "POST".to_string(),
            Method::Put => "PUT".to_string(),
            Method::Delete => "DELETE".to_string(),
            Method::Patch => "PATCH".to_string(),
            Method::Options => "OPTIONS".to_string(),
            Method::Connect => "CONNECT".to_string(),
            Method::Trace => "TRACE".to_string(),
            Method::Other(other) => other,
        };
        let target = request.path_with_query().unwrap_or_default();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target.as_str(), None),
        };
        let headers = request.headers();
        // Visible ASCII (and tab) only, as `dockhand serve` reads a header: anything else is
        // as if the header were absent.
        let header = |name: &str| {
            headers
                .get(name)
                .into_iter()
                .next()
                .filter(|v| v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)))
                .and_then(|v| String::from_utf8(v).ok())
        };
        let (authorization, content_type) = (header("authorization"), header("content-type"));
        drop(headers);
        let incoming = Request {
            method: &method,
            path,
            query,
            authorization: authorization.as_deref(),
            content_type: content_type.as_deref(),
        };

        let var = |name: &str| std::env::var(name).ok();
        let settings = Settings::from_env(&var);
        if let Err(why) = &settings {
            eprintln!("dockhand gateway: misconfigured: {why}");
        }
        let secrets = Secrets::default();
        let origin = settings.as_ref().map(|s| s.origin.clone()).ok();
        let base_url = settings.as_ref().map(|s| s.base_url.clone()).ok();
        let mut exchange = |identifier: &str, secret: &str| {
            let origin = origin.clone().ok_or_else(|| "no base URL".to_string())?;
            exchange(
                identifier,
                secret,
                origin,
                base_url.clone(),
                secrets.clone(),
            )
        };
        let withhold = settings
            .as_ref()
            .ok()
            .and_then(|s| s.withhold_secrets.clone());
        let mut credentials = EnvCredentials::new(&var, &mut exchange, secrets.clone(), withhold);
        // A gateway whose settings are broken sends nothing (the answer says why), so it needs
        // no egress rule.
        let mut transport: Box<dyn Transport> = match &settings {
            Ok(s) => Box::new(OriginOnly::new(WasiHttp, s.origin.clone(), secrets.clone())),
            Err(_) => Box::new(WasiHttp),
        };
        let answer = answer::answer(
            settings.as_ref().map_err(String::as_str),
            &incoming,
            |limit| read_body(request, limit),
            Hub {
                transport: transport.as_mut(),
                credentials: &mut credentials,
                clock: &mut WasiClock,
            },
        );
        respond(out, answer);
    }
}

/// Trades an access token for a JWT at the Hub's `/v2/auth/token`, through the core's own
/// `create_auth_token`, anonymously and behind the same egress rule.
fn exchange(
    identifier: &str,
    secret: &str,
    origin: dockhand_plugin_core::request::Origin,
    base_url: Option<String>,
    secrets: Secrets,
) -> Result<String, String> {
    struct Anonymous;
    impl Credentials for Anonymous {
        fn get(&mut self, _: &str, _: CredentialKind) -> Result<Option<String>, String> {
            Ok(None)
        }
        fn invalidate(&mut self, _: &str, _: CredentialKind) {}
    }
    let args = serde_json::json!({"identifier": identifier, "secret": secret});
    let options = CallOptions {
        base_url,
        ..CallOptions::default()
    };
    let outcome = client::call(
        "create_auth_token",
        &args,
        &options,
        &mut OriginOnly::new(WasiHttp, origin, secrets),
        &mut Anonymous,
        &mut WasiClock,
    )
    .map_err(|e| format!("exchanging the access token: {e}"))?;
    let value = outcome.body.to_value().map_err(|e| e.to_string())?;
    value["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "the token exchange answered without an access_token".to_string())
}

/// The request's body, or `Err` once it passes `limit` bytes.
fn read_body(request: IncomingRequest, limit: usize) -> Result<Vec<u8>, ()> {
    let body = request.consume().map_err(|_| ())?;
    let stream = body.stream().map_err(|_| ())?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > limit {
                    return Err(());
                }
            }
            Err(wasi::io::streams::StreamError::Closed) => break,
            Err(_) => return Err(()),
        }
    }
    drop(stream);
    IncomingBody::finish(body);
    Ok(bytes)
}

/// Sends `answer` as the response.
fn respond(out: ResponseOutparam, answer: Answer) {
    let mut fields: Vec<(String, Vec<u8>)> = vec![(
        "content-type".to_string(),
        answer.content_type.as_bytes().to_vec(),
    )];
    fields.extend(
        answer
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone().into_bytes())),
    );
    let Ok(headers) = Fields::from_list(&fields) else {
        return;
    };
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(answer.status);
    let Ok(body) = response.body() else {
        return;
    };
    ResponseOutparam::set(out, Ok(response));
    let Ok(stream) = body.write() else {
        return;
    };
    for chunk in answer.body.chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}
