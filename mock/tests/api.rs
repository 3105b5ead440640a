//! The mock's Hub behaviour over real HTTP: auth, repositories, organizations, SCIM.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{start, start_with};
use dockhand_mock::fixtures as fx;
use dockhand_mock::seed::{GeneratedTags, SeedRepository};
use dockhand_mock::{MockConfig, RecordedRequest};
use serde_json::{Value, json};

fn jwt_payload(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "JWT has three parts: {token}");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

#[tokio::test]
async fn token_exchange_for_pat_oat_and_password() {
    let (_hub, api) = start().await;
    for (id, secret) in [
        (fx::ALICE, fx::ALICE_PAT),
        (fx::ORG, fx::ORG_OAT),
        (fx::ALICE, fx::ALICE_PASSWORD),
    ] {
        let token = api.token(id, secret).await;
        let claims = jwt_payload(&token);
        assert_eq!(claims["sub"], id);
        let (iat, exp) = (
            claims["iat"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert_eq!(exp - iat, 600);
    }
    let oat = api.token(fx::ORG, fx::ORG_OAT).await;
    assert_eq!(
        api.get("/v2/orgs/acme/members", Some(&oat)).await.status,
        200
    );

    for (id, secret) in [
        (fx::ALICE, "dckr_pat_wrong"),
        (fx::ALICE, fx::BOB_PAT),
        (fx::ORG, fx::ALICE_PAT),
        ("nobody", "x"),
        // bob has 2FA, so his password cannot be exchanged directly.
        (fx::BOB, fx::BOB_PASSWORD),
    ] {
        let r = api
            .json(
                "POST",
                "/v2/auth/token",
                None,
                json!({"identifier": id, "secret": secret}),
            )
            .await;
        assert_eq!(r.status, 401, "{id}/{secret}");
        assert!(r.json()["detail"].is_string());
    }
}

#[tokio::test]
async fn bad_request_bodies_name_the_problem() {
    let (_hub, api) = start().await;
    let r = api
        .json(
            "POST",
            "/v2/auth/token",
            None,
            json!({"identifier": "alice"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("secret"));
    assert!(r.json()["fields"]["secret"].is_array());

    let r = api
        .json(
            "POST",
            "/v2/auth/token",
            None,
            json!({"identifier": 5, "secret": "x"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("identifier"));

    let r = api
        .send(
            "POST",
            "/v2/auth/token",
            None,
            Some(("application/json", b"{not json".to_vec())),
        )
        .await;
    assert_eq!(r.status, 400);

    let body = br#"{"identifier":"alice","secret":"x"}"#.to_vec();
    let r = api
        .send("POST", "/v2/auth/token", None, Some(("text/plain", body)))
        .await;
    assert_eq!(r.status, 415);

    let token = api.token(fx::ALICE, fx::ALICE_PAT).await;
    let r = api
        .json(
            "POST",
            "/v2/access-tokens",
            Some(&token),
            json!({"token_label": "x", "scopes": "repo:read"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("scopes"));
}

#[tokio::test]
async fn two_factor_login() {
    let (_hub, api) = start().await;
    let r = api
        .json(
            "POST",
            "/v2/users/login",
            None,
            json!({"username": "alice", "password": fx::ALICE_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["token"].as_str().unwrap().split('.').count() == 3);

    let r = api
        .json(
            "POST",
            "/v2/users/login",
            None,
            json!({"username": "bob", "password": fx::BOB_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 401);
    let pending = r.json()["login_2fa_token"].as_str().unwrap().to_string();
    assert!(r.json()["detail"].is_string());

    let r = api
        .json(
            "POST",
            "/v2/users/2fa-login",
            None,
            json!({"login_2fa_token": pending, "code": "000000"}),
        )
        .await;
    assert_eq!(r.status, 401);
    let r = api
        .json(
            "POST",
            "/v2/users/2fa-login",
            None,
            json!({"login_2fa_token": pending, "code": fx::BOB_TOTP_CODE}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.json()["token"].as_str().unwrap().to_string();
    assert_eq!(jwt_payload(&token)["sub"], "bob");
    assert_eq!(api.get("/v2/access-tokens", Some(&token)).await.status, 200);

    // The pending token is single-use.
    let r = api
        .json(
            "POST",
            "/v2/users/2fa-login",
            None,
            json!({"login_2fa_token": pending, "code": fx::BOB_TOTP_CODE}),
        )
        .await;
    assert_eq!(r.status, 401);

    let r = api
        .json(
            "POST",
            "/v2/users/login",
            None,
            json!({"username": "bob", "password": "nope"}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.json().get("login_2fa_token").is_none());
}

#[tokio::test]
async fn missing_unknown_and_expired_bearers_are_401() {
    let (hub, api) = start().await;
    let r = api.get("/v2/access-tokens", None).await;
    assert_eq!(r.status, 401);
    assert!(r.json()["message"].is_string());
    assert_eq!(
        api.get("/v2/access-tokens", Some("not.a.token"))
            .await
            .status,
        401
    );
    let r = api.send("GET", "/v2/access-tokens", None, None).await;
    assert_eq!(r.header("content-type"), Some("application/json"));

    let token = api.token(fx::ALICE, fx::ALICE_PAT).await;
    assert_eq!(api.get("/v2/access-tokens", Some(&token)).await.status, 200);
    hub.expire_tokens();
    let r = api.get("/v2/access-tokens", Some(&token)).await;
    assert_eq!(r.status, 401);
    assert!(r.text().contains("expired"));
    // A bad bearer is refused even where anonymous access would work.
    assert_eq!(
        api.get("/v2/namespaces/library/repositories/alpine", Some(&token))
            .await
            .status,
        401
    );
    let fresh = api.token(fx::ALICE, fx::ALICE_PAT).await;
    assert_eq!(api.get("/v2/access-tokens", Some(&fresh)).await.status, 200);
}

#[tokio::test]
async fn anonymous_public_reads_and_private_repositories() {
    let (_hub, api) = start().await;
    let r = api
        .get("/v2/namespaces/library/repositories/alpine", None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "alpine");
    assert_eq!(r.json()["permissions"]["write"], false);

    let r = api
        .get("/v2/namespaces/library/repositories/alpine/tags", None)
        .await;
    assert_eq!(r.status, 200);
    let page = r.json();
    assert_eq!(page["count"], fx::ALPINE_TAGS.len());
    let names: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, fx::ALPINE_TAGS);
    let image = &page["results"][0]["images"][0];
    for key in [
        "architecture",
        "os",
        "digest",
        "size",
        "features",
        "os_features",
        "os_version",
    ] {
        assert!(image.get(key).is_some(), "image has {key}");
    }
    let r = api
        .get(
            "/v2/namespaces/library/repositories/alpine/tags/latest",
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["images"].as_array().unwrap().len() >= 2);
    assert_eq!(
        api.head(
            "/v2/namespaces/library/repositories/alpine/tags/latest",
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        api.head("/v2/namespaces/library/repositories/alpine/tags/nope", None)
            .await
            .status,
        404
    );
    assert_eq!(
        api.head("/v2/namespaces/library/repositories/alpine/tags", None)
            .await
            .status,
        200
    );
    let r = api.get("/v2/namespaces/library/repositories", None).await;
    assert_eq!(r.json()["count"], 1);

    // Private: anonymous callers are asked to sign in, outsiders see nothing, members see it.
    let private = "/v2/namespaces/acme/repositories/private";
    assert_eq!(api.get(private, None).await.status, 401);
    let outsider = api.token(fx::MALLORY, fx::MALLORY_PAT).await;
    assert_eq!(api.get(private, Some(&outsider)).await.status, 404);
    let r = api
        .get("/v2/namespaces/acme/repositories", Some(&outsider))
        .await;
    assert_eq!(r.json()["count"], 0);
    let member = api.token(fx::CAROL, fx::CAROL_PAT).await;
    assert_eq!(api.get(private, Some(&member)).await.status, 200);
    assert_eq!(
        api.get(&format!("{private}/tags"), Some(&member))
            .await
            .json()["count"],
        2
    );
    let r = api
        .get("/v2/namespaces/acme/repositories", Some(&member))
        .await;
    assert_eq!(r.json()["count"], 1);
}

#[tokio::test]
async fn repository_create_list_get_head() {
    let (hub, api) = start().await;
    let token = api.token(fx::ALICE, fx::ALICE_PAT).await;
    let base = "/v2/namespaces/alice/repositories";
    for (name, private) in [("zeta", false), ("alpha-app", true), ("mid.dle", false)] {
        let r = api
            .json(
                "POST",
                base,
                Some(&token),
                json!({"name": name, "namespace": "alice", "description": "d", "is_private": private}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        assert_eq!(r.json()["name"], name);
        assert_eq!(r.json()["is_private"], private);
        assert_eq!(r.json()["permissions"]["admin"], true);
    }
    let names = |r: &common::Resp| -> Vec<String> {
        r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_string())
            .collect()
    };
    let r = api
        .get(&format!("{base}?ordering=name"), Some(&token))
        .await;
    assert_eq!(names(&r), ["alpha-app", "demo", "mid.dle", "zeta"]);
    let r = api
        .get(&format!("{base}?ordering=-name"), Some(&token))
        .await;
    assert_eq!(names(&r), ["zeta", "mid.dle", "demo", "alpha-app"]);
    let r = api
        .get(&format!("{base}?ordering=-pull_count"), Some(&token))
        .await;
    assert_eq!(names(&r)[0], "demo");
    let r = api
        .get(&format!("{base}?name=a&ordering=name"), Some(&token))
        .await;
    assert_eq!(names(&r), ["alpha-app", "zeta"]);
    // Anonymous callers do not see the private one.
    let r = api.get(&format!("{base}?ordering=name"), None).await;
    assert_eq!(names(&r), ["demo", "mid.dle", "zeta"]);
    let r = api.get(&format!("{base}?ordering=stars"), None).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["fields"]["ordering"].is_array());

    let r = api.get(&format!("{base}/zeta"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["namespace"], "alice");
    assert_eq!(api.head(&format!("{base}/zeta"), None).await.status, 200);
    assert_eq!(api.head(&format!("{base}/nope"), None).await.status, 404);

    // Validation, conflicts and permissions.
    let create = |ns: &str, body: Value, token: String| {
        let api = &api;
        let path = format!("/v2/namespaces/{ns}/repositories");
        async move { api.json("POST", &path, Some(&token), body).await }
    };
    let r = create(
        "alice",
        json!({"name": "Bad_Name!", "namespace": "alice"}),
        token.clone(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["fields"]["name"].is_array());
    let r = create(
        "alice",
        json!({"name": "ok", "namespace": "bob"}),
        token.clone(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("namespace"));
    let r = create("alice", json!({"namespace": "alice"}), token.clone()).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("name"));
    let r = create(
        "alice",
        json!({"name": "zeta", "namespace": "alice"}),
        token.clone(),
    )
    .await;
    assert_eq!(r.status, 409);
    let r = create(
        "alice",
        json!({"name": "big", "namespace": "alice", "full_description": "x".repeat(25_001)}),
        token.clone(),
    )
    .await;
    assert_eq!(r.status, 400);
    let carol = api.token(fx::CAROL, fx::CAROL_PAT).await;
    let r = create("acme", json!({"name": "new", "namespace": "acme"}), carol).await;
    assert_eq!(r.status, 403);
    assert!(r.json()["message"].as_str().unwrap().contains("permission"));
    let read_only = api.token(fx::ALICE, fx::ALICE_PAT_READ_ONLY).await;
    let r = create(
        "alice",
        json!({"name": "new", "namespace": "alice"}),
        read_only,
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("scope"));
    let r = create(
        "acme",
        json!({"name": "new", "namespace": "acme"}),
        token.clone(),
    )
    .await;
    assert_eq!(r.status, 201);

    let r = api
        .get(
            "/v2/auditlogs/acme?action=repo.create",
            Some(&api.token(fx::ORG, fx::ORG_OAT).await),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["logs"][0]["name"], "acme/new");
    let posts: Vec<RecordedRequest> = hub
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == base)
        .collect();
    assert_eq!(posts[0].json().unwrap()["name"], "zeta");
    assert_eq!(posts[0].header("Content-Type"), Some("application/json"));
}

#[tokio::test]
async fn two_hundred_fifty_tags_through_next_links() {
    let mut config = MockConfig::default();
    config.seed.repositories.push(SeedRepository {
        namespace: "library".into(),
        name: "many".into(),
        generated_tags: Some(GeneratedTags {
            count: 250,
            prefix: "1.0.".into(),
        }),
        ..SeedRepository::default()
    });
    let (hub, api) = start_with(config).await;
    let mut url = format!(
        "{}/v2/namespaces/library/repositories/many/tags?page_size=100",
        hub.base_url()
    );
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let path = url
            .strip_prefix(&api.base)
            .expect("next links point at the mock")
            .to_string();
        let r = api.get(&path, None).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        assert_eq!(page["count"], 250);
        pages += 1;
        if pages > 1 {
            assert!(
                page["previous"]
                    .as_str()
                    .unwrap()
                    .starts_with(&hub.base_url())
            );
        } else {
            assert!(page["previous"].is_null());
        }
        seen.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 250);
    assert_eq!(seen[0], "1.0.249");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 250);

    // page_size above the ceiling is lowered to 100; past the last page is a 404.
    let r = api
        .get(
            "/v2/namespaces/library/repositories/many/tags?page_size=1000",
            None,
        )
        .await;
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 100);
    let r = api
        .get(
            "/v2/namespaces/library/repositories/many/tags?page_size=100&page=4",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = api
        .get(
            "/v2/namespaces/library/repositories/many/tags?page_size=0",
            None,
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn encoded_path_segments_never_reach_another_route() {
    let (hub, api) = start().await;
    let token = api.token(fx::ALICE, fx::ALICE_PAT).await;
    let probes = [
        "/v2/namespaces/library/repositories/a%2Fb",
        "/v2/namespaces/alice/repositories/..%2F..%2F..%2Fv2%2Faccess-tokens",
        "/v2/namespaces/alice/repositories/demo/tags/..%2F..%2F..%2F..%2Fv2%2Faccess-tokens",
        "/v2/namespaces/..%2F..%2Fv2%2Faccess-tokens/repositories",
        "/v2/access-tokens/..%2F..%2Fv2%2Faccess-tokens",
    ];
    for path in probes {
        let r = api.get(path, Some(&token)).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(
            r.json().get("active_count").is_none(),
            "{path} reached the token list"
        );
    }
    // Unencoded dot segments are not normalised into another route either.
    let r = api
        .get(
            "/v2/namespaces/alice/repositories/demo/../../../access-tokens",
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 404);

    // A repository whose name holds an encoded slash is looked up as "a/b".
    let r = api
        .get("/v2/namespaces/alice/repositories/demo%2Flatest", None)
        .await;
    assert!(r.text().contains("alice/demo/latest"), "{}", r.text());
    let recorded = hub.requests();
    assert!(
        recorded
            .iter()
            .any(|r| r.path == "/v2/namespaces/library/repositories/a%2Fb")
    );
}

#[tokio::test]
async fn scim_users() {
    let (_hub, api) = start().await;
    let t = fx::SCIM_TOKEN;
    let r = api.get("/v2/scim/2.0/Users", None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(r.json()["status"], "401");
    let alice = api.token(fx::ALICE, fx::ALICE_PAT).await;
    assert_eq!(
        api.get("/v2/scim/2.0/Users", Some(&alice)).await.status,
        401
    );

    let r = api.get("/v2/scim/2.0/ServiceProviderConfig", Some(t)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["filter"]["supported"], true);
    assert_eq!(
        api.get("/v2/scim/2.0/ResourceTypes", Some(t)).await.json()["totalResults"],
        1
    );
    assert_eq!(
        api.get("/v2/scim/2.0/ResourceTypes/User", Some(t))
            .await
            .status,
        200
    );
    assert_eq!(
        api.get("/v2/scim/2.0/ResourceTypes/Group", Some(t))
            .await
            .status,
        404
    );
    assert_eq!(
        api.get("/v2/scim/2.0/Schemas", Some(t)).await.json()["Resources"][0]["id"],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    assert_eq!(
        api.get(
            "/v2/scim/2.0/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            Some(t)
        )
        .await
        .status,
        200
    );

    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "zoe@acme.example",
        "name": {"givenName": "Zoe", "familyName": "Mock"},
    });
    let bytes = serde_json::to_vec(&user).unwrap();
    let r = api
        .send(
            "POST",
            "/v2/scim/2.0/Users",
            Some(t),
            Some(("application/json", bytes)),
        )
        .await;
    assert!(r.status == 415 || r.status == 400, "{}", r.status);
    let r = api.send("POST", "/v2/scim/2.0/Users", Some(t), None).await;
    assert_eq!(r.status, 400);
    let r = api
        .scim("POST", "/v2/scim/2.0/Users", t, user.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert!(r.header("location").unwrap().ends_with(&id));
    let r = api
        .scim("POST", "/v2/scim/2.0/Users", t, user.clone())
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["scimType"], "uniqueness");
    let r = api
        .scim(
            "POST",
            "/v2/scim/2.0/Users",
            t,
            json!({"userName": "x@y.z"}),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = api
        .get(
            "/v2/scim/2.0/Users?filter=userName%20eq%20%22ZOE@acme.example%22",
            Some(t),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["totalResults"], 1);
    assert_eq!(r.json()["Resources"][0]["id"], id.as_str());
    let r = api
        .get("/v2/scim/2.0/Users?filter=userName%20eq", Some(t))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["scimType"], "invalidFilter");

    let r = api
        .get(
            "/v2/scim/2.0/Users?sortBy=userName&sortOrder=descending",
            Some(t),
        )
        .await;
    let body = r.json();
    let names: Vec<&str> = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "zoe@acme.example",
            "carol@acme.example",
            "alice@acme.example"
        ]
    );
    let r = api
        .get(
            "/v2/scim/2.0/Users?sortBy=userName&startIndex=2&count=1",
            Some(t),
        )
        .await;
    let page = r.json();
    assert_eq!(
        (
            page["totalResults"].as_u64(),
            page["itemsPerPage"].as_u64(),
            page["startIndex"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(page["Resources"][0]["userName"], "carol@acme.example");

    let r = api
        .scim(
            "PUT",
            &format!("/v2/scim/2.0/Users/{id}"),
            t,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "name": {"givenName": "Zo"}, "enabled": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    assert_eq!(r.json()["name"]["givenName"], "Zo");
    assert_eq!(r.json()["name"]["familyName"], "Mock");
    let r = api.get(&format!("/v2/scim/2.0/Users/{id}"), Some(t)).await;
    assert_eq!(r.json()["active"], false);
    let r = api
        .get("/v2/scim/2.0/Users?filter=active%20eq%20false", Some(t))
        .await;
    assert_eq!(r.json()["totalResults"], 1);
    assert_eq!(
        api.get("/v2/scim/2.0/Users/nope", Some(t)).await.status,
        404
    );
}

#[tokio::test]
async fn organization_members_invites_groups_and_audit() {
    let (_hub, api) = start().await;
    let pat = api.token(fx::ALICE, fx::ALICE_PAT).await;
    let pw = api.token(fx::ALICE, fx::ALICE_PASSWORD).await;

    let r = api.get("/v2/orgs/acme/members/export", Some(&pat)).await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let csv = r.text();
    assert!(csv.starts_with("Name,Username,Email,Type,Permission,Teams,Date Joined"));
    assert!(csv.contains(",alice,alice@acme.example,User,Owner,\"developers, owners\","));
    assert!(csv.contains(fx::INVITEE));

    let usernames = |r: common::Resp| -> Vec<String> {
        r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["username"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        usernames(api.get("/v2/orgs/acme/members", Some(&pat)).await),
        ["alice", "bob", "carol"]
    );
    assert_eq!(
        usernames(
            api.get("/v2/orgs/acme/members?role=owner", Some(&pat))
                .await
        ),
        ["alice"]
    );
    assert_eq!(
        usernames(
            api.get("/v2/orgs/acme/members?search=CAR", Some(&pat))
                .await
        ),
        ["carol"]
    );
    let r = api
        .get("/v2/orgs/acme/members?type=invitee", Some(&pat))
        .await;
    assert_eq!(r.json()["results"][0]["email"], fx::INVITEE);
    assert_eq!(
        api.get("/v2/orgs/acme/members?invites=true", Some(&pat))
            .await
            .json()["count"],
        4
    );
    assert_eq!(
        api.get("/v2/orgs/acme/members?type=bogus", Some(&pat))
            .await
            .status,
        400
    );
    let outsider = api.token(fx::MALLORY, fx::MALLORY_PAT).await;
    assert_eq!(
        api.get("/v2/orgs/acme/members", Some(&outsider))
            .await
            .status,
        403
    );
    assert_eq!(
        api.get("/v2/orgs/nope/members", Some(&pat)).await.status,
        404
    );

    let r = api
        .json(
            "PUT",
            "/v2/orgs/acme/members/carol",
            Some(&pat),
            json!({"role": "editor"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["role"], "Editor");
    assert_eq!(
        api.json(
            "PUT",
            "/v2/orgs/acme/members/alice",
            Some(&pat),
            json!({"role": "member"})
        )
        .await
        .status,
        400
    );
    let carol = api.token(fx::CAROL, fx::CAROL_PAT).await;
    let r = api
        .json(
            "PUT",
            "/v2/orgs/acme/members/bob",
            Some(&carol),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.json()["message"].as_str().unwrap().contains("owner"));

    // Invites: a dry run changes nothing.
    let bulk = json!({"org": "acme", "team": "developers", "invitees": ["new@example.com", "bob", "not-an-id!", fx::INVITEE], "dry_run": true});
    let r = api
        .json("POST", "/v2/invites/bulk", Some(&pat), bulk.clone())
        .await;
    assert_eq!(r.status, 202);
    let body = r.json();
    let statuses: Vec<&str> = body["invitees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "invited",
            "existing_org_member",
            "invalid_email_or_docker_id",
            "already_invited"
        ]
    );
    assert!(body["invitees"][0].get("invite").is_none());
    assert_eq!(
        api.get("/v2/orgs/acme/invites", Some(&pat)).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let mut real = bulk.clone();
    real["dry_run"] = json!(false);
    let r = api.json("POST", "/v2/invites/bulk", Some(&pat), real).await;
    let new_id = r.json()["invitees"][0]["invite"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.get("/v2/orgs/acme/invites", Some(&pat)).await.json()["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        api.send(
            "PATCH",
            &format!("/v2/invites/{new_id}/resend"),
            Some(&pat),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        api.delete(&format!("/v2/invites/{new_id}"), Some(&pat))
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete(&format!("/v2/invites/{new_id}"), Some(&pat))
            .await
            .status,
        404
    );

    // Groups.
    let r = api
        .json(
            "POST",
            "/v2/orgs/acme/groups",
            Some(&pat),
            json!({"name": "qa", "description": "testers"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let group_id = r.json()["id"].as_u64().unwrap();
    assert_eq!(
        api.json(
            "POST",
            "/v2/orgs/acme/groups",
            Some(&pat),
            json!({"name": "qa"})
        )
        .await
        .status,
        409
    );
    assert_eq!(
        api.json(
            "POST",
            "/v2/orgs/acme/groups",
            Some(&pat),
            json!({"description": "x"})
        )
        .await
        .status,
        400
    );
    let r = api
        .json(
            "PATCH",
            "/v2/orgs/acme/groups/qa",
            Some(&pat),
            json!({"description": "quality"}),
        )
        .await;
    assert_eq!(r.json()["name"], "qa");
    assert_eq!(r.json()["description"], "quality");
    assert_eq!(
        api.json(
            "POST",
            "/v2/orgs/acme/groups/qa/members",
            Some(&pat),
            json!({"member": "carol"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        api.json(
            "POST",
            "/v2/orgs/acme/groups/qa/members",
            Some(&pat),
            json!({"member": "mallory"})
        )
        .await
        .status,
        404
    );
    let r = api.get("/v2/orgs/acme/groups/qa/members", Some(&pat)).await;
    assert_eq!(r.json()["results"][0]["username"], "carol");
    assert_eq!(
        api.get("/v2/orgs/acme/groups?username=carol", Some(&pat))
            .await
            .json()["count"],
        1
    );
    let r = api
        .json(
            "POST",
            "/v2/repositories/acme/private/groups",
            Some(&pat),
            json!({"group_id": group_id, "permission": "write"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"group_name": "qa", "permission": "write", "group_id": group_id})
    );
    let r = api
        .json(
            "PUT",
            "/v2/orgs/acme/groups/qa",
            Some(&pat),
            json!({"name": "quality"}),
        )
        .await;
    assert_eq!(r.json()["member_count"], 1);
    assert_eq!(
        api.get("/v2/orgs/acme/groups/qa", Some(&pat)).await.status,
        404
    );
    assert_eq!(
        api.delete("/v2/orgs/acme/groups/quality/members/carol", Some(&pat))
            .await
            .status,
        204
    );
    assert_eq!(
        api.delete("/v2/orgs/acme/groups/quality", Some(&pat))
            .await
            .status,
        204
    );

    // Member removal, then the audit log tells the story.
    assert_eq!(
        api.delete("/v2/orgs/acme/members/carol", Some(&pat))
            .await
            .status,
        204
    );
    let r = api.get("/v2/auditlogs/acme", Some(&pw)).await;
    let body = r.json();
    let actions: Vec<&str> = body["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "member.remove");
    assert!(actions.contains(&"team.create") && actions.contains(&"member.invite.send"));
    let r = api
        .get(
            "/v2/auditlogs/acme?action=team.create&from=2000-01-01T00:00:00Z",
            Some(&pw),
        )
        .await;
    assert_eq!(r.json()["logs"].as_array().unwrap().len(), 1);
    let r = api
        .get("/v2/auditlogs/acme?to=2000-01-01T00:00:00Z", Some(&pw))
        .await;
    assert_eq!(r.json()["logs"].as_array().unwrap().len(), 0);
    assert_eq!(
        api.get("/v2/auditlogs/acme?from=yesterday", Some(&pw))
            .await
            .status,
        400
    );
    let r = api.get("/v2/auditlogs/acme/actions", Some(&pw)).await;
    assert!(
        r.json()["actions"]["org"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "team.create")
    );
}

#[tokio::test]
async fn tokens_settings_and_immutable_tags() {
    let (_hub, api) = start().await;
    let pat = api.token(fx::ALICE, fx::ALICE_PAT).await;
    let pw = api.token(fx::ALICE, fx::ALICE_PASSWORD).await;

    // Personal access tokens: the secret only on create, and it exchanges.
    let r = api
        .json(
            "POST",
            "/v2/access-tokens",
            Some(&pat),
            json!({"token_label": "ci", "scopes": ["repo:read"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let secret = r.json()["token"].as_str().unwrap().to_string();
    let uuid = r.json()["uuid"].as_str().unwrap().to_string();
    assert!(secret.starts_with("dckr_pat_"));
    api.token(fx::ALICE, &secret).await;
    let r = api
        .get(&format!("/v2/access-tokens/{uuid}"), Some(&pat))
        .await;
    assert_eq!(r.json()["token"], "");
    let r = api.get("/v2/access-tokens", Some(&pat)).await;
    assert_eq!(r.json()["count"], 3);
    assert!(
        r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["token"] == "")
    );
    let r = api
        .json(
            "PATCH",
            &format!("/v2/access-tokens/{uuid}"),
            Some(&pat),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.json()["is_active"], false);
    let r = api
        .json(
            "POST",
            "/v2/auth/token",
            None,
            json!({"identifier": "alice", "secret": secret}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        api.delete(&format!("/v2/access-tokens/{uuid}"), Some(&pat))
            .await
            .status,
        204
    );
    assert_eq!(
        api.get(&format!("/v2/access-tokens/{uuid}"), Some(&pat))
            .await
            .status,
        404
    );

    // Organization admin routes refuse PAT-minted JWTs, take passwords and OATs.
    let r = api.get("/v2/orgs/acme/access-tokens", Some(&pat)).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("personal access token"));
    let r = api.get("/v2/orgs/acme/access-tokens", Some(&pw)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["total"], 1);
    let r = api
        .json(
            "POST",
            "/v2/orgs/acme/access-tokens",
            Some(&pw),
            json!({"label": "deploy", "resources": [{"type": "TYPE_REPO", "path": "acme/*", "scopes": ["scope-image-pull"]}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let oat_secret = r.json()["token"].as_str().unwrap().to_string();
    let oat_id = r.json()["id"].as_str().unwrap().to_string();
    let oat_jwt = api.token(fx::ORG, &oat_secret).await;
    assert_eq!(
        api.get("/v2/orgs/acme/groups", Some(&oat_jwt)).await.status,
        200
    );
    let r = api
        .get(&format!("/v2/orgs/acme/access-tokens/{oat_id}"), Some(&pw))
        .await;
    assert!(r.json().get("token").is_none());
    assert_eq!(r.json()["resources"][0]["path"], "acme/*");
    let r = api
        .json(
            "PATCH",
            &format!("/v2/orgs/acme/access-tokens/{oat_id}"),
            Some(&pw),
            json!({"label": "deploy2"}),
        )
        .await;
    assert_eq!(r.json()["label"], "deploy2");
    assert_eq!(
        api.delete(&format!("/v2/orgs/acme/access-tokens/{oat_id}"), Some(&pw))
            .await
            .status,
        204
    );
    // Its JWT dies with it.
    assert_eq!(
        api.get("/v2/orgs/acme/groups", Some(&oat_jwt)).await.status,
        401
    );
    let r = api
        .json(
            "POST",
            "/v2/orgs/acme/access-tokens",
            Some(&pw),
            json!({"description": "no label"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("label"));

    // Settings.
    let r = api.get("/v2/orgs/acme/settings", Some(&pw)).await;
    assert_eq!(r.json()["restricted_images"]["enabled"], false);
    let body = json!({"restricted_images": {"enabled": true, "allow_official_images": true, "allow_verified_publishers": false}});
    assert_eq!(
        api.json("PUT", "/v2/orgs/acme/settings", Some(&pat), body.clone())
            .await
            .status,
        403
    );
    let r = api
        .json("PUT", "/v2/orgs/acme/settings", Some(&pw), body)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["restricted_images"]["enabled"], true);
    let r = api
        .json(
            "PUT",
            "/v2/orgs/acme/settings",
            Some(&pw),
            json!({"restricted_images": {"enabled": true}}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("allow_official_images"));

    // Immutable tags.
    let repo = "/v2/namespaces/acme/repositories/private";
    let r = api
        .json(
            "PATCH",
            &format!("{repo}/immutabletags"),
            Some(&pat),
            json!({"immutable_tags": true, "immutable_tags_rules": ["v.*"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["immutable_tags_settings"],
        json!({"enabled": true, "rules": ["v.*"]})
    );
    let r = api
        .json(
            "PATCH",
            &format!("{repo}/immutabletags"),
            Some(&pat),
            json!({"immutable_tags": true, "immutable_tags_rules": ["("]}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = api
        .json(
            "POST",
            &format!("{repo}/immutabletags/verify"),
            Some(&pat),
            json!({"regex": "v1\\..*"}),
        )
        .await;
    assert_eq!(r.json(), json!({"tags": ["v1.0.0"]}));
    let r = api
        .json(
            "POST",
            &format!("{repo}/immutabletags/verify"),
            Some(&pat),
            json!({"regex": "v.*"}),
        )
        .await;
    assert_eq!(r.json()["tags"].as_array().unwrap().len(), 2);
    let carol = api.token(fx::CAROL, fx::CAROL_PAT).await;
    assert_eq!(
        api.json(
            "POST",
            &format!("{repo}/immutabletags/verify"),
            Some(&carol),
            json!({"regex": "v.*"})
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn seed_files() {
    let config = MockConfig::from_seed_yaml(
        r#"
include_builtin: true
token_lifetime_seconds: 60
users:
  - username: erin
    password: mock-password-erin
    access_tokens:
      - label: t
        secret: dckr_pat_mock_erin
repositories:
  - namespace: erin
    name: tool
    is_private: true
    tags:
      - name: latest
        images:
          - {architecture: amd64, os: linux, size: 10}
"#,
    )
    .unwrap();
    assert_eq!(config.token_lifetime.as_secs(), 60);
    let (_hub, api) = start_with(config).await;
    let token = api.token("erin", "dckr_pat_mock_erin").await;
    let claims = jwt_payload(&token);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );
    assert_eq!(
        api.get(
            "/v2/namespaces/erin/repositories/tool/tags/latest",
            Some(&token)
        )
        .await
        .status,
        200
    );
    api.token(fx::ALICE, fx::ALICE_PAT).await;

    assert!(MockConfig::from_seed_yaml("users: [{username: a, typo: 1}]").is_err());
    let err =
        MockConfig::from_seed_yaml("orgs: [{name: o, members: [{username: ghost, role: owner}]}]")
            .unwrap_err();
    assert!(err.contains("ghost"), "{err}");
}
