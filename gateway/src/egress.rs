//! The gateway's own egress rule, whatever the engine allows: a request goes only to the
//! configured Hub's origin (a `next` link or a redirect elsewhere is refused before anything is
//! sent), and no secret the gateway holds comes back out in an answer (a server that echoes the
//! bearer has it replaced before the core, and so the client, sees it).

use dockhand_plugin_core::client::{Pending, Transport};
use dockhand_plugin_core::error::HubError;
use dockhand_plugin_core::request::{HttpRequest, Origin, url_origin};
use dockhand_plugin_core::response::HttpResponse;
use std::cell::RefCell;
use std::rc::Rc;

/// What a secret is replaced with in an answer.
pub const REDACTED: &str = "dockhand-redacted";

/// The secrets of one request's instance: every credential handed to the core is added, so
/// that answers can be scrubbed of it.
pub type Secrets = Rc<RefCell<Vec<String>>>;

/// A transport that sends only to `origin`, and scrubs `secrets` from what comes back.
pub struct OriginOnly<T> {
    inner: T,
    origin: Origin,
    secrets: Secrets,
}

impl<T: Transport> OriginOnly<T> {
    pub fn new(inner: T, origin: Origin, secrets: Secrets) -> OriginOnly<T> {
        OriginOnly {
            inner,
            origin,
            secrets,
        }
    }

    fn check(&self, request: &HttpRequest) -> Result<(), HubError> {
        match url_origin(&request.url) {
            Some(origin) if origin == self.origin => Ok(()),
            other => Err(HubError::Denied(format!(
                "{} is not the gateway's Hub ({}); nothing was sent",
                other.map_or_else(|| "a URL without an origin".to_string(), |o| o.as_url()),
                self.origin.as_url()
            ))),
        }
    }
}

impl<T: Transport> Transport for OriginOnly<T> {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
        self.check(request)?;
        let secrets = self.secrets.borrow().clone();
        self.inner.send(request).map(|r| scrub(r, &secrets))
    }

    fn start(&mut self, request: &HttpRequest) -> Pending {
        if let Err(e) = self.check(request) {
            return Pending::Ready(Err(e));
        }
        let secrets = self.secrets.borrow().clone();
        match self.inner.start(request) {
            Pending::Ready(answer) => Pending::Ready(answer.map(|r| scrub(r, &secrets))),
            Pending::Waiting(read) => {
                Pending::Waiting(Box::new(move || read().map(|r| scrub(r, &secrets))))
            }
        }
    }
}

/// The answer with every occurrence of a secret, in its body or its headers, replaced.
fn scrub(mut response: HttpResponse, secrets: &[String]) -> HttpResponse {
    for secret in secrets.iter().filter(|s| s.len() >= 8) {
        let needle = secret.as_bytes();
        if response.body.windows(needle.len()).any(|w| w == needle) {
            let mut out = Vec::with_capacity(response.body.len());
            let mut rest = response.body.as_slice();
            while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
                out.extend_from_slice(&rest[..at]);
                out.extend_from_slice(REDACTED.as_bytes());
                rest = &rest[at + needle.len()..];
            }
            out.extend_from_slice(rest);
            response.body = out;
        }
        for (_, value) in &mut response.headers {
            if value.contains(secret.as_str()) {
                *value = value.replace(secret.as_str(), REDACTED);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockhand_plugin_core::catalog::Method;
    use dockhand_plugin_core::request::base_origin;

    struct Echo;

    impl Transport for Echo {
        fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
            let auth = request.header("authorization").unwrap_or("").to_string();
            Ok(HttpResponse {
                status: 200,
                headers: vec![("x-echo".into(), auth.clone())],
                body: format!("{{\"seen\": \"{auth}\"}}").into_bytes(),
            })
        }
    }

    fn get(url: &str) -> HttpRequest {
        HttpRequest {
            method: Method::Get,
            url: url.into(),
            headers: vec![("authorization".into(), "Bearer jwt-0123456789".into())],
            body: None,
        }
    }

    #[test]
    fn requests_go_to_the_hubs_origin_only() {
        let origin = base_origin(Some("http://127.0.0.1:8080")).unwrap();
        let mut t = OriginOnly::new(Echo, origin, Secrets::default());
        assert!(t.send(&get("http://127.0.0.1:8080/v2/x")).is_ok());
        for elsewhere in [
            "http://127.0.0.1:8081/v2/x",
            "https://127.0.0.1:8080/v2/x",
            "http://evil.example/v2/x",
            "http://127.0.0.1:8080@evil.example/v2/x",
            "/v2/x",
        ] {
            let e = t.send(&get(elsewhere)).unwrap_err();
            assert!(matches!(e, HubError::Denied(_)), "{elsewhere}: {e:?}");
            assert!(matches!(
                t.start(&get(elsewhere)).finish(),
                Err(HubError::Denied(_))
            ));
        }
    }

    #[test]
    fn an_echoed_secret_comes_back_redacted() {
        let origin = base_origin(Some("http://127.0.0.1:8080")).unwrap();
        let secrets = Secrets::default();
        secrets.borrow_mut().push("jwt-0123456789".into());
        let mut t = OriginOnly::new(Echo, origin, secrets);
        for answer in [
            t.send(&get("http://127.0.0.1:8080/v2/x")).unwrap(),
            t.start(&get("http://127.0.0.1:8080/v2/x"))
                .finish()
                .unwrap(),
        ] {
            let body = String::from_utf8(answer.body).unwrap();
            assert_eq!(body, format!("{{\"seen\": \"Bearer {REDACTED}\"}}"));
            assert_eq!(answer.headers[0].1, format!("Bearer {REDACTED}"));
        }
    }
}
