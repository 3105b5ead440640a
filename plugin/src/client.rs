//! One call, top to bottom: resolve the operation, bind and validate the arguments, build the
//! request, attach the host's credential, send, retry once after a 401 with a fresh credential,
//! decode, retry what [`retry`](crate::retry) says is worth it, follow pages when asked.
//!
//! The transport, the credential source and the clock are traits so that this whole path runs
//! natively in tests; the component plugs in wasi-http, the host's `credentials` import and
//! wasi clocks.

use crate::prelude::*;

use crate::args;
use crate::catalog::{self, Auth, Method, Operation, Pagination};
#[cfg(test)]
use crate::error::TransportKind;
use crate::error::{HubError, RateLimit};
use crate::paginate::{self, Next};
use crate::request::{self, HttpRequest};
use crate::response::{self, HttpResponse, JsonText};
use crate::retry::{Budget, Clock, RetryPolicy};
use serde_json::Value;

pub const DEFAULT_ACCOUNT: &str = "default";
pub const DEFAULT_MAX_PAGES: u32 = 100;
/// Further pages fetched at once when a listing's first page says how many there are.
pub const DEFAULT_PAGE_CONCURRENCY: u32 = 4;
/// More in flight would only spend the account's rate limit faster.
pub const MAX_PAGE_CONCURRENCY: u32 = 32;

/// Sends HTTP requests.
pub trait Transport {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError>;

    /// Sends `request` without waiting for its answer, so that others can be sent meanwhile;
    /// [`Pending::finish`] reads the answer. The default sends it and waits at once.
    fn start(&mut self, request: &HttpRequest) -> Pending {
        Pending::Ready(self.send(request))
    }
}

/// A request sent whose answer has not been read yet.
pub enum Pending {
    /// Already answered.
    Ready(Result<HttpResponse, HubError>),
    /// Reads the answer when called.
    Waiting(Box<dyn FnOnce() -> Result<HttpResponse, HubError>>),
}

impl Pending {
    /// Waits for the answer and reads it whole.
    pub fn finish(self) -> Result<HttpResponse, HubError> {
        match self {
            Pending::Ready(answer) => answer,
            Pending::Waiting(read) => read(),
        }
    }
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
    /// With `all_pages`, further pages in flight at once (default
    /// [`DEFAULT_PAGE_CONCURRENCY`]; 1 follows `next` one page at a time).
    pub page_concurrency: Option<u32>,
    pub retry: RetryPolicy,
}

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: JsonText,
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
    clock: &mut dyn Clock,
) -> Result<Outcome, HubError> {
    let op = catalog::find(name).ok_or_else(|| {
        let hints = catalog::suggestions(name);
        HubError::UnknownOperation(if hints.is_empty() {
            format!("`{name}` is not the name or alias of any operation")
        } else {
            format!("`{name}`; did you mean {}?", hints.join(", "))
        })
    })?;
    let bound = args::bind(op, args)?;
    let origin = request::base_origin(options.base_url.as_deref())?;
    let mut request = request::build(op, &bound, &origin);
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
        clock,
        budget: Budget::new(options.retry),
    };

    let first = session.fetch(&mut request)?;
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
    let mut merged = first.body.to_value()?;
    let mut last = (first.status, first.content_type, first.rate_limit);
    let mut pages = 1;
    let mut next = paginate::next_page(pagination, &merged, &request.url, &origin);

    // When the first page tells how many there are, the rest are fetched side by side, a
    // window of `concurrency` at a time, and merged in page order: the same result as the walk
    // below, in fewer round trips. Whatever is left after them (a listing that grew) is walked.
    let concurrency = options
        .page_concurrency
        .unwrap_or(DEFAULT_PAGE_CONCURRENCY)
        .clamp(1, MAX_PAGE_CONCURRENCY) as usize;
    let known = match concurrency {
        1 => None,
        _ => paginate::remaining_pages(pagination, &merged, &request.url, &next, max_pages - 1),
    };
    if let Some(urls) = known.filter(|urls| urls.len() > 1) {
        // A sliding window: as soon as one answer is taken the next page is sent, so pages are
        // read and merged while later ones travel.
        let mut queue = alloc::collections::VecDeque::with_capacity(concurrency);
        let mut urls = urls.into_iter();
        loop {
            while queue.len() < concurrency
                && let Some(url) = urls.next()
            {
                let mut page = request.clone();
                page.url = url;
                page.method = Method::Get;
                let (pending, authorized) = session.start(&mut page)?;
                queue.push_back((page, pending, authorized));
            }
            let Some((mut sent, pending, authorized)) = queue.pop_front() else {
                break;
            };
            let answer = pending.finish();
            if let Some(url) = urls.next() {
                let mut page = request.clone();
                page.url = url;
                page.method = Method::Get;
                let (pending, authorized) = session.start(&mut page)?;
                queue.push_back((page, pending, authorized));
            }
            let page = match session.fetch_after(&mut sent, Some((answer, authorized))) {
                Ok(page) => page,
                // The listing shrank since its first page: it ends before this one.
                Err(HubError::NotFound(_)) => {
                    next = Next::Done;
                    break;
                }
                Err(e) => return Err(e),
            };
            let body = page.body.to_value()?;
            pages += 1;
            next = paginate::next_page(pagination, &body, &sent.url, &origin);
            paginate::merge(pagination, &mut merged, body);
            last = (page.status, page.content_type, page.rate_limit);
            match (&next, queue.front()) {
                // The page after this one is the one already on its way.
                (Next::Url(link), Some((upcoming, _, _)))
                    if paginate::page_of(pagination, link)
                        == paginate::page_of(pagination, &upcoming.url) => {}
                (Next::Url(_), None) => {}
                // The last page, a link not followed, or a listing that changed under the
                // window (a SCIM page shorter than the first): what is in flight is dropped and
                // the walk below goes on from what this page says.
                _ => break,
            }
        }
    }

    let remaining = loop {
        match next {
            Next::Done => break None,
            Next::OffOrigin(link) => break Some(link),
            Next::Url(link) if pages >= max_pages => break Some(link),
            Next::Url(link) => {
                let mut page_request = request.clone();
                page_request.url = link.clone();
                page_request.method = Method::Get;
                let page = session.fetch(&mut page_request)?;
                let body = page.body.to_value()?;
                pages += 1;
                next = paginate::next_page(pagination, &body, &link, &origin);
                paginate::merge(pagination, &mut merged, body);
                last = (page.status, page.content_type, page.rate_limit);
            }
        }
    };
    paginate::finish(pagination, &mut merged, remaining);
    Ok(Outcome {
        status: last.0,
        content_type: last.1,
        body: JsonText::from_value(&merged),
        rate_limit: last.2,
        pages,
    })
}

struct Session<'a> {
    op: &'static Operation,
    account: &'a str,
    transport: &'a mut dyn Transport,
    credentials: &'a mut dyn Credentials,
    clock: &'a mut dyn Clock,
    /// Shared by every request of the call, pages included.
    budget: Budget,
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
            Ok(None) => {
                // An earlier attempt's credential must not stay on this one.
                request
                    .headers
                    .retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                Ok(false)
            }
            Err(why) => Err(HubError::Unauthorized(format!(
                "no credential for account `{}`: {why}",
                self.account
            ))),
        }
    }

    /// [`Self::attempt`], again after each failure the retry budget allows, waiting first.
    fn fetch(&mut self, request: &mut HttpRequest) -> Result<response::Decoded, HubError> {
        self.fetch_after(request, None)
    }

    /// [`Self::fetch`], when the first attempt's answer (`first`, sent with a credential when
    /// `.1`) is already in.
    fn fetch_after(
        &mut self,
        request: &mut HttpRequest,
        mut first: Option<(Result<HttpResponse, HubError>, bool)>,
    ) -> Result<response::Decoded, HubError> {
        let mut attempt = 0;
        loop {
            let outcome = match first.take() {
                Some((answer, authorized)) => self.settle(request, answer, authorized),
                None => self.attempt(request),
            };
            let error = match outcome {
                Ok(decoded) => return Ok(decoded),
                Err(error) => error,
            };
            match self
                .budget
                .next_wait(&error, self.op.idempotent, attempt, self.clock)
            {
                Some(wait) => self.clock.sleep(wait),
                None => return Err(error),
            }
            attempt += 1;
        }
    }

    /// Sends `request` with the account's credential without waiting for the answer (see
    /// [`Transport::start`]); the answer goes to [`Self::fetch_after`] with whether it was sent
    /// with a credential.
    fn start(&mut self, request: &mut HttpRequest) -> Result<(Pending, bool), HubError> {
        let authorized = self.authorize(request)?;
        Ok((self.transport.start(request), authorized))
    }

    /// Sends with the account's credential; after a 401, asks for a fresh one and tries once more.
    /// The request keeps whatever `authorization` it was last sent with; each attempt sets its
    /// own (or removes a stale one), so nothing is copied per attempt.
    fn attempt(&mut self, request: &mut HttpRequest) -> Result<response::Decoded, HubError> {
        let authorized = self.authorize(request)?;
        let answer = self.transport.send(request);
        self.settle(request, answer, authorized)
    }

    /// Decodes `answer`; a 401 to a request sent with a credential is sent once more with a
    /// fresh one first.
    fn settle(
        &mut self,
        request: &mut HttpRequest,
        answer: Result<HttpResponse, HubError>,
        authorized: bool,
    ) -> Result<response::Decoded, HubError> {
        let resp = answer?;
        let resp = if resp.status == 401 && authorized {
            let kind = self.kind().expect("authorized implies a credential kind");
            self.credentials.invalidate(self.account, kind);
            // Replaces the rejected bearer, or removes it when none comes back.
            self.authorize(request)?;
            self.transport.send(request)?
        } else {
            resp
        };
        response::decode(request.method, resp, || self.clock.now_unix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::FakeClock;
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

    impl Scripted {
        fn answer_with(mut self, status: u16, headers: &[(&str, &str)]) -> Self {
            self.answers.push_back(Ok(HttpResponse {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: Vec::new(),
            }));
            self
        }

        fn fail(mut self, kind: TransportKind) -> Self {
            self.answers
                .push_back(Err(HubError::transport(kind, "scripted failure")));
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
        call(name, &args, &options, t, c, &mut FakeClock::default())
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
        assert_eq!(out.body.to_value().unwrap()["name"], "alpine");
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
        assert_eq!(out.body.to_value().unwrap(), json!({"ok": true}));
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
            &mut FakeClock::default(),
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
    fn a_page_that_passes_the_json_check_but_cannot_be_merged_is_a_decode_error() {
        // 1e400 is well-formed JSON but beyond f64: the pass-through check lets it by, and
        // merging pages must say so rather than merge nothing.
        let mut t = Scripted::default();
        t.answers.push_back(Ok(HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"count": 1e400, "next": null, "results": []}"#.to_vec(),
        }));
        let opts = CallOptions {
            all_pages: true,
            ..Default::default()
        };
        let out = run(
            "list_repository_tags",
            json!({"namespace": "a", "repository": "b"}),
            opts,
            &mut t,
            &mut Tokens::default(),
        );
        assert!(matches!(out, Err(HubError::Decode(_))), "{out:?}");
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
            out.body.to_value().unwrap()["results"],
            json!(["t1a", "t1b", "t2a", "t2b", "t3a", "t3b"])
        );
        assert_eq!(out.body.to_value().unwrap()["next"], Value::Null);
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
            out.body.to_value().unwrap()["next"],
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
        assert_eq!(
            out.body.to_value().unwrap()["next"],
            json!("https://evil.example/v2/x?page=2")
        );
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
        assert_eq!(
            out.body.to_value().unwrap()["Resources"],
            json!(["a", "b", "c"])
        );
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
            out.body.to_value().unwrap()["next"],
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

    // Retries

    fn repo() -> Value {
        json!({"namespace": "a", "repository": "b"})
    }

    fn new_repo() -> Value {
        json!({"namespace": "a", "name": "b"})
    }

    /// Runs with a fake clock, returning what the call slept.
    fn timed(
        name: &str,
        args: Value,
        options: CallOptions,
        t: &mut Scripted,
    ) -> (Result<Outcome, HubError>, Vec<core::time::Duration>) {
        let mut clock = FakeClock {
            now: 1_700_000_000,
            ..FakeClock::default()
        };
        let out = call(name, &args, &options, t, &mut Tokens::default(), &mut clock);
        (out, clock.slept)
    }

    fn ms(n: u64) -> core::time::Duration {
        core::time::Duration::from_millis(n)
    }

    #[test]
    fn a_gateway_error_on_a_get_is_retried_with_backoff() {
        let mut t = Scripted::default()
            .answer(502, json!({}))
            .answer(503, json!({}))
            .answer(200, json!({"name": "b"}));
        let (out, slept) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        assert_eq!(out.unwrap().body.to_value().unwrap()["name"], "b");
        assert_eq!(t.sent.len(), 3);
        assert_eq!(slept, vec![ms(125), ms(250)]);
        // Each attempt carries the credential.
        assert!(t.sent.iter().all(|r| r.header("authorization").is_some()));
    }

    #[test]
    fn a_retry_without_a_credential_does_not_resend_the_earlier_one() {
        /// A credential for the first request only (say, the account was signed out meanwhile).
        struct Once(bool);
        impl Credentials for Once {
            fn get(&mut self, _: &str, _: CredentialKind) -> Result<Option<String>, String> {
                Ok(core::mem::take(&mut self.0).then(|| "tok0".to_string()))
            }
            fn invalidate(&mut self, _: &str, _: CredentialKind) {}
        }
        let mut t = Scripted::default()
            .answer(503, json!({}))
            .answer(200, json!({"name": "b"}));
        call(
            "get_repository",
            &repo(),
            &CallOptions::default(),
            &mut t,
            &mut Once(true),
            &mut FakeClock::default(),
        )
        .unwrap();
        assert_eq!(t.sent[0].header("authorization"), Some("Bearer tok0"));
        assert_eq!(t.sent[1].header("authorization"), None);
    }

    #[test]
    fn retries_stop_at_the_count_and_return_the_last_error() {
        let mut t = Scripted::default()
            .answer(504, json!({}))
            .answer(504, json!({}))
            .answer(504, json!({"message": "gateway timeout"}));
        let (out, slept) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        assert_eq!(
            out.unwrap_err(),
            HubError::Upstream {
                status: 504,
                message: "gateway timeout".into()
            }
        );
        assert_eq!((t.sent.len(), slept.len()), (3, 2));
    }

    #[test]
    fn a_non_idempotent_post_is_not_retried_after_a_gateway_error_or_reset() {
        let mut t = Scripted::default().answer(503, json!({}));
        let (out, slept) = timed(
            "create_repository",
            new_repo(),
            CallOptions::default(),
            &mut t,
        );
        assert!(matches!(out, Err(HubError::Upstream { status: 503, .. })));
        assert_eq!((t.sent.len(), slept.len()), (1, 0));

        let mut t = Scripted::default().fail(TransportKind::ConnectionReset);
        let (out, _) = timed(
            "create_repository",
            new_repo(),
            CallOptions::default(),
            &mut t,
        );
        assert!(
            matches!(out, Err(HubError::Transport { kind, .. }) if kind == TransportKind::ConnectionReset)
        );
        assert_eq!(t.sent.len(), 1);
    }

    #[test]
    fn a_post_the_catalog_marks_idempotent_is_retried() {
        let op = catalog::find("verify_repository_immutable_tags").unwrap();
        assert!(op.method == Method::Post && op.idempotent);
        let mut t = Scripted::default()
            .answer(503, json!({}))
            .answer(200, json!({"tags": []}));
        let (out, _) = timed(
            "verify_repository_immutable_tags",
            json!({"namespace": "a", "repository": "b", "regex": "v.*"}),
            CallOptions::default(),
            &mut t,
        );
        assert!(out.is_ok(), "{out:?}");
        assert_eq!(t.sent.len(), 2);
    }

    #[test]
    fn transport_failures_on_a_get_are_retried() {
        let mut t = Scripted::default()
            .fail(TransportKind::ConnectionRefused)
            .fail(TransportKind::Timeout)
            .answer(200, json!({}));
        let (out, slept) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        assert!(out.is_ok());
        assert_eq!(slept.len(), 2);
        let mut t = Scripted::default().fail(TransportKind::Dns);
        let (out, _) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        assert!(out.is_err());
        assert_eq!(t.sent.len(), 1);
    }

    #[test]
    fn a_429_is_retried_after_retry_after_even_for_a_post() {
        let mut t = Scripted::default()
            .answer_with(429, &[("retry-after", "3")])
            .answer(201, json!({"name": "b"}));
        let (out, slept) = timed(
            "create_repository",
            new_repo(),
            CallOptions::default(),
            &mut t,
        );
        assert_eq!(out.unwrap().status, 201);
        assert_eq!(slept, vec![core::time::Duration::from_secs(3)]);
    }

    #[test]
    fn a_429_with_x_retry_after_waits_until_that_instant() {
        let mut t = Scripted::default()
            .answer_with(429, &[("x-retry-after", "1700000005")])
            .answer(200, json!({}));
        let (out, slept) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        assert!(out.is_ok());
        assert_eq!(slept, vec![core::time::Duration::from_secs(5)]);
    }

    #[test]
    fn a_429_past_the_budget_is_rate_limited_with_when_to_retry() {
        // Longer than the 30 s default: no waiting at all.
        let mut t = Scripted::default().answer_with(
            429,
            &[("retry-after", "45"), ("x-ratelimit-remaining", "0")],
        );
        let (out, slept) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        match out.unwrap_err() {
            HubError::RateLimited {
                retry_after,
                rate_limit,
            } => {
                assert_eq!(retry_after, Some(45));
                assert_eq!(rate_limit.unwrap().remaining, Some(0));
            }
            other => panic!("{other:?}"),
        }
        assert!(slept.is_empty());
        // Out of retries.
        let mut t = Scripted::default()
            .answer_with(429, &[("retry-after", "1")])
            .answer_with(429, &[("retry-after", "1")])
            .answer_with(429, &[("retry-after", "2")]);
        let (out, slept) = timed("get_repository", repo(), CallOptions::default(), &mut t);
        assert!(matches!(
            out,
            Err(HubError::RateLimited {
                retry_after: Some(2),
                ..
            })
        ));
        assert_eq!(slept.len(), 2);
    }

    #[test]
    fn retry_options_can_turn_retries_off() {
        let opts = CallOptions {
            retry: RetryPolicy {
                max_retries: 0,
                ..RetryPolicy::default()
            },
            ..Default::default()
        };
        let mut t = Scripted::default().answer_with(429, &[("retry-after", "1")]);
        let (out, slept) = timed("get_repository", repo(), opts.clone(), &mut t);
        assert!(matches!(out, Err(HubError::RateLimited { .. })));
        assert!(slept.is_empty());
        let mut t = Scripted::default().answer(503, json!({}));
        let (out, _) = timed("get_repository", repo(), opts, &mut t);
        assert!(out.is_err());
        assert_eq!(t.sent.len(), 1);
    }

    #[test]
    fn the_wait_budget_spans_every_page_of_a_call() {
        let opts = CallOptions {
            all_pages: true,
            // One page after another, so that the script's order is the order sent.
            page_concurrency: Some(1),
            retry: RetryPolicy {
                max_retries: 2,
                max_wait: core::time::Duration::from_secs(5),
            },
            ..Default::default()
        };
        let mut t = Scripted::default()
            .answer_with(429, &[("retry-after", "3")])
            .answer(200, tag_page(1, Some("https://hub.docker.com/v2/x?page=2")))
            .answer_with(429, &[("retry-after", "3")]);
        let (out, slept) = timed(
            "list_repository_tags",
            json!({"namespace": "a", "repository": "b"}),
            opts,
            &mut t,
        );
        // 3 s were spent on page 1; another 3 s for page 2 would pass the 5 s budget.
        assert!(matches!(out, Err(HubError::RateLimited { .. })));
        assert_eq!(slept, vec![core::time::Duration::from_secs(3)]);
        assert_eq!(t.sent.len(), 3);
        assert_eq!(t.sent[2].url, "https://hub.docker.com/v2/x?page=2");
    }

    #[test]
    fn a_retry_after_a_fresh_credential_still_counts_once() {
        // 401 (re-mint, same attempt), then 503 (retry), then success.
        let mut t = Scripted::default()
            .answer(401, json!({"detail": "expired"}))
            .answer(503, json!({}))
            .answer(200, json!({}));
        let mut c = Tokens::default();
        let mut clock = FakeClock::default();
        let out = call(
            "get_repository",
            &repo(),
            &CallOptions::default(),
            &mut t,
            &mut c,
            &mut clock,
        );
        assert!(out.is_ok());
        assert_eq!(c.invalidations, 1);
        assert_eq!(clock.slept.len(), 1);
        assert_eq!(t.sent[2].header("authorization"), Some("Bearer tok1"));
    }

    // ---- Pages side by side ----

    /// A tag listing of `count` tags served by page number and size, as the Hub does, that
    /// records what was sent, how many answers were outstanding at most, and can fail chosen
    /// pages. Answers are made when read, so `count` can change while requests are in flight.
    #[derive(Clone)]
    struct Listing(std::rc::Rc<std::cell::RefCell<ListingState>>);

    struct ListingState {
        count: usize,
        sent: Vec<String>,
        in_flight: usize,
        most_in_flight: usize,
        /// page number -> statuses to answer first, in order.
        fail: std::collections::HashMap<usize, VecDeque<u16>>,
    }

    impl Listing {
        fn new(count: usize) -> Listing {
            Listing(std::rc::Rc::new(std::cell::RefCell::new(ListingState {
                count,
                sent: Vec::new(),
                in_flight: 0,
                most_in_flight: 0,
                fail: Default::default(),
            })))
        }

        fn state(&self) -> std::cell::RefMut<'_, ListingState> {
            self.0.borrow_mut()
        }

        fn answer(&self, url: &str) -> Result<HttpResponse, HubError> {
            let mut state = self.state();
            let query = url.split_once('?').map_or("", |(_, q)| q);
            let param = |name: &str| -> Option<usize> {
                query.split('&').find_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    (k == name).then(|| v.parse().ok())?
                })
            };
            let page = param("page").unwrap_or(1);
            let size = param("page_size").unwrap_or(10);
            let json = |status: u16, body: Value| HttpResponse {
                status,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string().into_bytes(),
            };
            if let Some(status) = state.fail.get_mut(&page).and_then(VecDeque::pop_front) {
                return Ok(json(status, json!({"message": "scripted"})));
            }
            let from = (page - 1) * size;
            if page > 1 && from >= state.count {
                return Ok(json(404, json!({"message": "page not found"})));
            }
            let to = (from + size).min(state.count);
            let next = (to < state.count).then(|| {
                format!(
                    "https://hub.docker.com/v2/namespaces/a/repositories/b/tags?page={}&page_size={size}",
                    page + 1
                )
            });
            let results: Vec<Value> = (from..to)
                .map(|i| json!({"name": format!("t{i}")}))
                .collect();
            Ok(json(
                200,
                json!({"count": state.count, "next": next, "previous": null, "results": results}),
            ))
        }
    }

    impl Transport for Listing {
        fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
            self.state().sent.push(request.url.clone());
            self.answer(&request.url)
        }

        fn start(&mut self, request: &HttpRequest) -> Pending {
            let mut state = self.state();
            state.sent.push(request.url.clone());
            state.in_flight += 1;
            state.most_in_flight = state.most_in_flight.max(state.in_flight);
            drop(state);
            let (listing, url) = (self.clone(), request.url.clone());
            Pending::Waiting(Box::new(move || {
                listing.state().in_flight -= 1;
                listing.answer(&url)
            }))
        }
    }

    fn list_all_with(t: &mut dyn Transport, concurrency: u32) -> Outcome {
        call(
            "list_repository_tags",
            &json!({"namespace": "a", "repository": "b", "page_size": 10}),
            &CallOptions {
                all_pages: true,
                page_concurrency: Some(concurrency),
                ..Default::default()
            },
            t,
            &mut Tokens::default(),
            &mut FakeClock::default(),
        )
        .unwrap()
    }

    fn list_all(
        t: &mut Listing,
        concurrency: u32,
        max_pages: Option<u32>,
    ) -> Result<Outcome, HubError> {
        let options = CallOptions {
            all_pages: true,
            max_pages,
            page_concurrency: Some(concurrency),
            ..Default::default()
        };
        let mut clock = FakeClock::default();
        call(
            "list_repository_tags",
            &json!({"namespace": "a", "repository": "b", "page_size": 10}),
            &options,
            t,
            &mut Tokens::default(),
            &mut clock,
        )
    }

    #[test]
    fn pages_side_by_side_merge_to_what_the_walk_gives() {
        for count in [200, 195, 11, 10, 3] {
            let mut walk = Listing::new(count);
            let walked = list_all(&mut walk, 1, None).unwrap();
            let mut side = Listing::new(count);
            let fetched = list_all(&mut side, 4, None).unwrap();
            assert_eq!(fetched, walked, "{count} tags");
            assert_eq!(
                fetched.body.to_value().unwrap()["results"]
                    .as_array()
                    .unwrap()
                    .len(),
                count
            );
            let pages = count.div_ceil(10);
            assert_eq!(walk.state().sent.len(), pages);
            assert_eq!(walk.state().most_in_flight, 0, "the walk sends and waits");
            // Every page once; after the first, up to four outstanding, never more (a single
            // further page is simply fetched).
            assert_eq!(side.state().sent.len(), pages, "{count} tags");
            let most = if pages > 2 { (pages - 1).min(4) } else { 0 };
            assert_eq!(side.state().most_in_flight, most, "{count} tags");
        }
    }

    #[test]
    fn pages_side_by_side_stop_at_the_page_cap_where_the_walk_does() {
        let mut walk = Listing::new(200);
        let walked = list_all(&mut walk, 1, Some(7)).unwrap();
        let mut side = Listing::new(200);
        let fetched = list_all(&mut side, 4, Some(7)).unwrap();
        assert_eq!(fetched, walked);
        assert_eq!(fetched.pages, 7);
        assert_eq!(side.state().sent.len(), 7);
        let body = fetched.body.to_value().unwrap();
        assert!(body["next"].as_str().unwrap().contains("page=8"), "{body}");
    }

    #[test]
    fn a_page_failing_side_by_side_is_retried_alone_or_fails_the_call() {
        // A 503 on page 3 is sent again (a listing is idempotent); nothing is merged twice.
        let mut walk = Listing::new(60);
        let walked = list_all(&mut walk, 1, None).unwrap();
        let mut side = Listing::new(60);
        side.state().fail.insert(3, VecDeque::from([503]));
        let fetched = list_all(&mut side, 4, None).unwrap();
        assert_eq!(fetched, walked);
        let sent = side.state().sent.clone();
        assert_eq!(
            sent.iter().filter(|u| u.ends_with("page=3")).count(),
            2,
            "{sent:?}"
        );
        assert_eq!(sent.len(), 7);
        // A 500 is not retried: the call fails with it, and no partial listing comes back.
        let mut side = Listing::new(60);
        side.state().fail.insert(4, VecDeque::from([500]));
        assert!(matches!(
            list_all(&mut side, 4, None),
            Err(HubError::Upstream { status: 500, .. })
        ));
    }

    #[test]
    fn a_listing_that_grew_since_its_first_page_is_walked_to_its_new_end() {
        // The first page says 60 tags; by the time the others are read there are 75: the last
        // page fetched side by side (6) points on to page 7, which the walk then follows.
        struct Growing(Listing);
        impl Transport for Growing {
            fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
                let answer = self.0.send(request);
                self.0.state().count = 75;
                answer
            }
            fn start(&mut self, request: &HttpRequest) -> Pending {
                self.0.start(request)
            }
        }
        let mut t = Growing(Listing::new(60));
        let out = list_all_with(&mut t, 4);
        let body = out.body.to_value().unwrap();
        assert_eq!(body["results"].as_array().unwrap().len(), 75);
        assert_eq!(body["results"][74]["name"], "t74");
        assert_eq!(out.pages, 8);
        assert_eq!(body["next"], Value::Null);
    }

    #[test]
    fn a_listing_that_shrank_since_its_first_page_ends_where_it_ends() {
        // The first page says 60 tags; by the time the others are read only 35 are left: page 4
        // says it is the last, pages 5 and 6 are gone (404).
        struct Shrinking(Listing);
        impl Transport for Shrinking {
            fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, HubError> {
                let first = self.0.send(request);
                self.0.state().count = 35;
                first
            }
            fn start(&mut self, request: &HttpRequest) -> Pending {
                self.0.start(request)
            }
        }
        let mut t = Shrinking(Listing::new(60));
        let out = list_all_with(&mut t, 4);
        let body = out.body.to_value().unwrap();
        assert_eq!(body["results"].as_array().unwrap().len(), 35);
        assert_eq!(out.pages, 4);
        assert_eq!(body["next"], Value::Null);
    }
}
