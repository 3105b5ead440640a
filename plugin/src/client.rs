//! One call, top to bottom: resolve the operation, bind and validate the arguments, build the
//! request, attach the host's credential, send, retry once after a 401 with a fresh credential,
//! follow pages when asked, decode.
//!
//! The transport and the credential source are traits so that this whole path runs natively in
//! tests; the component plugs in wasi-http and the host's `credentials` import.

use crate::args;
use crate::catalog::{self, Auth, Method, Operation, Pagination};
use crate::error::{HubError, RateLimit};
use crate::paginate::{self, Next};
use crate::request::{self, HttpRequest};
use crate::response::{self, HttpResponse};
use serde_json::Value;

pub const DEFAULT_ACCOUNT: &str = "default";
pub const DEFAULT_MAX_PAGES: u32 = 100;

/// Sends one HTTP request.
pub trait Transport {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Hub,
    Scim,
}

/// The host's credential broker, as the component sees it.
pub trait Credentials {
    /// `Ok(None)`: anonymous. `Err`: the host could not produce one; the text names no secret.
    fn get(&mut self, account: &str, kind: CredentialKind) -> Result<Option<String>, String>;
    fn invalidate(&mut self, account: &str, kind: CredentialKind);
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOptions {
    pub account: Option<String>,
    pub base_url: Option<String>,
    pub all_pages: bool,
    pub max_pages: Option<u32>,
}

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Value,
    pub rate_limit: Option<RateLimit>,
    pub pages: u32,
}

/// Runs the operation named `name` (any of its names) with JSON `args`.
pub fn call(
    name: &str,
    args: &Value,
    options: &CallOptions,
    transport: &mut dyn Transport,
    credentials: &mut dyn Credentials,
) -> Result<Outcome, HubError> {
    let op = catalog::find(name).ok_or_else(|| {
        let hints = catalog::suggestions(name);
        HubError::UnknownOperation(if hints.is_empty() {
            format!("`{name}` (see the catalog's operations() or docs())")
        } else {
            format!("`{name}`; did you mean {}?", hints.join(", "))
        })
    })?;
    let bound = args::bind(op, args)?;
    let origin = request::base_origin(options.base_url.as_deref())?;
    let request = request::build(op, &bound, &origin);
    let account = options
        .account
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or(DEFAULT_ACCOUNT);
    let mut session = Session {
        op,
        account,
        transport,
        credentials,
    };

    let first = session.fetch(request.clone())?;
    let pagination = if options.all_pages {
        op.pagination
    } else {
        Pagination::None
    };
    if pagination == Pagination::None {
        return Ok(Outcome {
            status: first.status,
            content_type: first.content_type,
            body: first.body,
            rate_limit: first.rate_limit,
            pages: 1,
        });
    }

    let max_pages = options.max_pages.unwrap_or(DEFAULT_MAX_PAGES).max(1);
    let mut merged = first.body;
    let mut last = (first.status, first.content_type, first.rate_limit);
    let mut pages = 1;
    let mut next = paginate::next_page(pagination, &merged, &request.url, &origin);
    let remaining = loop {
        match next {
            Next::Done => break None,
            Next::OffOrigin(link) => break Some(link),
            Next::Url(link) if pages >= max_pages => break Some(link),
            Next::Url(link) => {
                let mut page_request = request.clone();
                page_request.url = link.clone();
                page_request.method = Method::Get;
                let page = session.fetch(page_request)?;
                pages += 1;
                next = paginate::next_page(pagination, &page.body, &link, &origin);
                paginate::merge(pagination, &mut merged, page.body);
                last = (page.status, page.content_type, page.rate_limit);
            }
        }
    };
    paginate::finish(pagination, &mut merged, remaining);
    Ok(Outcome {
        status: last.0,
        content_type: last.1,
        body: merged,
        rate_limit: last.2,
        pages,
    })
}

struct Session<'a> {
    op: &'static Operation,
    account: &'a str,
    transport: &'a mut dyn Transport,
    credentials: &'a mut dyn Credentials,
}

impl Session<'_> {
    fn kind(&self) -> Option<CredentialKind> {
        match self.op.auth {
            Auth::None => None,
            Auth::Scim => Some(CredentialKind::Scim),
            Auth::Bearer | Auth::Optional => Some(CredentialKind::Hub),
        }
    }

    fn authorize(&mut self, request: &mut HttpRequest) -> Result<bool, HubError> {
        let Some(kind) = self.kind() else {
            return Ok(false);
        };
        match self.credentials.get(self.account, kind) {
            Ok(Some(token)) => {
                request.set_header("authorization", format!("Bearer {token}"));
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(why) => Err(HubError::Unauthorized(format!(
                "no credential for account `{}`: {why}",
                self.account
            ))),
        }
    }

    /// Sends with the account's credential; after a 401, asks for a fresh one and tries once more.
    fn fetch(&mut self, mut request: HttpRequest) -> Result<response::Decoded, HubError> {
        let authorized = self.authorize(&mut request)?;
        let resp = self.transport.send(&request)?;
        let resp = if resp.status == 401 && authorized {
            let kind = self.kind().expect("authorized implies a credential kind");
            self.credentials.invalidate(self.account, kind);
            request
                .headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            self.authorize(&mut request)?;
            self.transport.send(&request)?
        } else {
            resp
        };
        response::decode(request.method, &resp, now_unix())
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::VecDeque;

    /// Answers from a script and records what was sent.
    #[derive(Default)]
    struct Scripted {
        answers: VecDeque<Result<HttpResponse, HubError>>,
        sent: Vec<HttpRequest>,
    }

    impl Scripted {
        fn answer(mut self, status: u16, body: Value) -> Self {
            self.answers.push_back(Ok(HttpResponse {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string().into_bytes(),
            }));
            self
        }
    }

    impl Transport for Scripted {
        fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
            self.sent.push(request.clone());
            self.answers
                .pop_front()
                .expect("a scripted answer for every request")
        }
    }

    /// Hands out numbered tokens; `invalidate` moves to the next.
    #[derive(Default)]
    struct Tokens {
        generation: u32,
        anonymous: bool,
        gets: Vec<(String, CredentialKind)>,
        invalidations: u32,
    }

    impl Credentials for Tokens {
        fn get(&mut self, account: &str, kind: CredentialKind) -> Result<Option<String>, String> {
            self.gets.push((account.to_string(), kind));
            if self.anonymous {
                return Ok(None);
            }
            Ok(Some(format!("tok{}", self.generation)))
        }
        fn invalidate(&mut self, _: &str, _: CredentialKind) {
            self.invalidations += 1;
            self.generation += 1;
        }
    }

    fn run(
        name: &str,
        args: Value,
        options: CallOptions,
        t: &mut Scripted,
        c: &mut Tokens,
    ) -> Result<Outcome, HubError> {
        call(name, &args, &options, t, c)
    }

    #[test]
    fn credential_is_sent_as_bearer_for_the_chosen_account() {
        let mut t = Scripted::default().answer(200, json!({"name": "alpine"}));
        let mut c = Tokens::default();
        let opts = CallOptions {
            account: Some("work".into()),
            ..Default::default()
        };
        let out = run(
            "get_repository",
            json!({"namespace": "library", "repository": "alpine"}),
            opts,
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(out.body["name"], "alpine");
        assert_eq!(t.sent[0].header("authorization"), Some("Bearer tok0"));
        assert_eq!(c.gets, vec![("work".to_string(), CredentialKind::Hub)]);
    }

    #[test]
    fn no_credential_means_an_anonymous_request() {
        let mut t = Scripted::default().answer(200, json!({}));
        let mut c = Tokens {
            anonymous: true,
            ..Default::default()
        };
        run(
            "get_repository",
            json!({"namespace": "library", "repository": "alpine"}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(t.sent[0].header("authorization"), None);
    }

    #[test]
    fn scim_operations_ask_for_the_scim_credential() {
        let mut t = Scripted::default().answer(200, json!({"Resources": []}));
        let mut c = Tokens::default();
        run(
            "scim_list_schemas",
            json!({}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(c.gets[0].1, CredentialKind::Scim);
    }

    #[test]
    fn token_operations_send_no_authorization() {
        let mut t = Scripted::default().answer(200, json!({"access_token": "jwt"}));
        let mut c = Tokens::default();
        run(
            "create_auth_token",
            json!({"identifier": "u", "secret": "s"}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(t.sent[0].header("authorization"), None);
        assert!(c.gets.is_empty());
    }

    #[test]
    fn a_401_invalidates_and_retries_once_with_a_fresh_credential() {
        let mut t = Scripted::default()
            .answer(401, json!({"detail": "expired"}))
            .answer(200, json!({"ok": true}));
        let mut c = Tokens::default();
        let out = run(
            "list_personal_access_tokens",
            json!({}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(out.body, json!({"ok": true}));
        assert_eq!(c.invalidations, 1);
        assert_eq!(t.sent[0].header("authorization"), Some("Bearer tok0"));
        assert_eq!(t.sent[1].header("authorization"), Some("Bearer tok1"));
    }

    #[test]
    fn a_second_401_is_returned_as_unauthorized() {
        let mut t = Scripted::default()
            .answer(401, json!({"detail": "no"}))
            .answer(401, json!({"detail": "still no"}));
        let mut c = Tokens::default();
        let err = run(
            "list_personal_access_tokens",
            json!({}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap_err();
        assert_eq!(err, HubError::Unauthorized("still no".into()));
        assert_eq!(t.sent.len(), 2);
    }

    #[test]
    fn an_anonymous_401_is_not_retried() {
        let mut t = Scripted::default().answer(401, json!({"detail": "login"}));
        let mut c = Tokens {
            anonymous: true,
            ..Default::default()
        };
        assert!(
            run(
                "list_personal_access_tokens",
                json!({}),
                CallOptions::default(),
                &mut t,
                &mut c
            )
            .is_err()
        );
        assert_eq!(t.sent.len(), 1);
        assert_eq!(c.invalidations, 0);
    }

    #[test]
    fn host_credential_failure_is_unauthorized_and_sends_nothing() {
        struct Failing;
        impl Credentials for Failing {
            fn get(&mut self, _: &str, _: CredentialKind) -> Result<Option<String>, String> {
                Err("token exchange answered 401".into())
            }
            fn invalidate(&mut self, _: &str, _: CredentialKind) {}
        }
        let mut t = Scripted::default();
        let err = call(
            "list_personal_access_tokens",
            &json!({}),
            &CallOptions::default(),
            &mut t,
            &mut Failing,
        )
        .unwrap_err();
        assert!(matches!(err, HubError::Unauthorized(m) if m.contains("account `default`")));
        assert!(t.sent.is_empty());
    }

    #[test]
    fn invalid_arguments_send_nothing() {
        let mut t = Scripted::default();
        let mut c = Tokens::default();
        let err = run(
            "get_repository",
            json!({"namespace": "x"}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap_err();
        assert!(matches!(err, HubError::InvalidArgument { .. }));
        assert!(t.sent.is_empty() && c.gets.is_empty());
    }

    #[test]
    fn unknown_operation_suggests_names() {
        let mut t = Scripted::default();
        let mut c = Tokens::default();
        match run(
            "list_repo_tags",
            json!({}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap_err()
        {
            HubError::UnknownOperation(m) => assert!(m.contains("list_repository_tags"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    fn tag_page(n: u32, next: Option<&str>) -> Value {
        json!({"count": 5, "next": next, "previous": null, "results": [format!("t{n}a"), format!("t{n}b")]})
    }

    #[test]
    fn all_pages_follows_next_links_and_merges() {
        let mut t = Scripted::default()
            .answer(
                200,
                tag_page(
                    1,
                    Some("https://hub.docker.com/v2/namespaces/a/repositories/b/tags?page=2"),
                ),
            )
            .answer(
                200,
                tag_page(
                    2,
                    Some("https://hub.docker.com/v2/namespaces/a/repositories/b/tags?page=3"),
                ),
            )
            .answer(200, tag_page(3, None));
        let mut c = Tokens::default();
        let opts = CallOptions {
            all_pages: true,
            ..Default::default()
        };
        let out = run(
            "list_repository_tags",
            json!({"namespace": "a", "repository": "b"}),
            opts,
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(out.pages, 3);
        assert_eq!(
            out.body["results"],
            json!(["t1a", "t1b", "t2a", "t2b", "t3a", "t3b"])
        );
        assert_eq!(out.body["next"], Value::Null);
        assert_eq!(
            t.sent[2].url,
            "https://hub.docker.com/v2/namespaces/a/repositories/b/tags?page=3"
        );
        // Every page carries the credential.
        assert!(
            t.sent
                .iter()
                .all(|r| r.header("authorization") == Some("Bearer tok0"))
        );
    }

    #[test]
    fn the_page_cap_stops_and_says_where_to_continue() {
        let mut t = Scripted::default()
            .answer(200, tag_page(1, Some("https://hub.docker.com/v2/x?page=2")))
            .answer(200, tag_page(2, Some("https://hub.docker.com/v2/x?page=3")));
        let mut c = Tokens::default();
        let opts = CallOptions {
            all_pages: true,
            max_pages: Some(2),
            ..Default::default()
        };
        let out = run(
            "list_repository_tags",
            json!({"namespace": "a", "repository": "b"}),
            opts,
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(out.pages, 2);
        assert_eq!(
            out.body["next"],
            json!("https://hub.docker.com/v2/x?page=3")
        );
    }

    #[test]
    fn next_links_to_another_host_are_not_followed() {
        let mut t =
            Scripted::default().answer(200, tag_page(1, Some("https://evil.example/v2/x?page=2")));
        let mut c = Tokens::default();
        let opts = CallOptions {
            all_pages: true,
            ..Default::default()
        };
        let out = run(
            "list_repository_tags",
            json!({"namespace": "a", "repository": "b"}),
            opts,
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(t.sent.len(), 1);
        assert_eq!(out.pages, 1);
        assert_eq!(out.body["next"], json!("https://evil.example/v2/x?page=2"));
    }

    #[test]
    fn scim_pages_step_start_index() {
        let page = |start: u64, ids: &[&str]| json!({"totalResults": 3, "startIndex": start, "itemsPerPage": ids.len(), "Resources": ids});
        let mut t = Scripted::default()
            .answer(200, page(1, &["a", "b"]))
            .answer(200, page(3, &["c"]));
        let mut c = Tokens::default();
        let opts = CallOptions {
            all_pages: true,
            ..Default::default()
        };
        let out = run("scim_list_users", json!({"count": 2}), opts, &mut t, &mut c).unwrap();
        assert_eq!(out.body["Resources"], json!(["a", "b", "c"]));
        assert_eq!(
            t.sent[1].url,
            "https://hub.docker.com/v2/scim/2.0/Users?count=2&startIndex=3"
        );
    }

    #[test]
    fn without_all_pages_only_one_page_is_fetched() {
        let mut t = Scripted::default()
            .answer(200, tag_page(1, Some("https://hub.docker.com/v2/x?page=2")));
        let mut c = Tokens::default();
        let out = run(
            "list_repository_tags",
            json!({"namespace": "a", "repository": "b"}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(out.pages, 1);
        assert_eq!(
            out.body["next"],
            json!("https://hub.docker.com/v2/x?page=2")
        );
    }

    #[test]
    fn transport_errors_pass_through() {
        let mut t = Scripted::default();
        t.answers
            .push_back(Err(HubError::Denied("not allowed".into())));
        let mut c = Tokens::default();
        let err = run(
            "get_repository",
            json!({"namespace": "a", "repository": "b"}),
            CallOptions::default(),
            &mut t,
            &mut c,
        )
        .unwrap_err();
        assert_eq!(err, HubError::Denied("not allowed".into()));
    }

    #[test]
    fn base_url_option_is_used() {
        let mut t = Scripted::default().answer(200, json!({}));
        let mut c = Tokens::default();
        let opts = CallOptions {
            base_url: Some("http://127.0.0.1:9/v2".into()),
            ..Default::default()
        };
        run(
            "get_repository",
            json!({"namespace": "a", "repository": "b"}),
            opts,
            &mut t,
            &mut c,
        )
        .unwrap();
        assert_eq!(
            t.sent[0].url,
            "http://127.0.0.1:9/v2/namespaces/a/repositories/b"
        );
    }
}
