//! Results for people: on a terminal a listing is a table with the catalog's columns (sizes and
//! times readable, cut to the terminal's width, bold headers unless `NO_COLOR`), an object is
//! field/value rows; piped, the JSON is what it always was. `-o` picks json, table, yaml or raw
//! anywhere, and a hostile answer reaches the terminal inert.

use crate::support::{Terminal, dockhand, text_of};
use dockhand_mock::seed::SeedRepository;
use dockhand_mock::{MockConfig, MockHub, Seed};

/// `dockhand args...` on a terminal `cols` wide, with `env`.
fn on_a_terminal(
    home: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    cols: u16,
) -> (i32, String) {
    let terminal = Terminal {
        env,
        cols,
        typing: None,
    };
    crate::support::on_a_terminal(home, args, terminal)
}

/// `dockhand --base-url BASE --no-cache call list_repository_tags library/alpine`.
fn alpine_tags(base: &str) -> Vec<&str> {
    vec![
        "--base-url",
        base,
        "--no-cache",
        "call",
        "list_repository_tags",
        "library/alpine",
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_is_a_table_on_a_terminal_and_the_same_json_in_a_pipe() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let args = alpine_tags(&base);
    let (code, screen) = on_a_terminal(home.path(), &args, &[], 200);
    assert_eq!(code, 0, "{screen}");
    let text = text_of(&screen);
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .split("  ")
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        ["NAME", "DIGEST", "FULL SIZE", "TAG LAST PUSHED", "STATUS"],
        "{text}"
    );
    let latest = lines
        .find(|l| l.starts_with("latest "))
        .expect("a row per tag");
    // Sizes in MB, times relative, digests short: readable, in the table only.
    assert!(latest.contains(" MB "), "{latest}");
    assert!(latest.contains(" ago "), "{latest}");
    let digest = latest.split_whitespace().nth(1).unwrap();
    assert_eq!(digest.len(), "sha256:".len() + 12, "{latest}");
    assert!(!text.contains("\"results\""), "{text}");

    // Piped, the default is the JSON it always was, byte for byte what `-o json` prints.
    let piped = dockhand(home.path(), &args, &[], "").await;
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    let mut as_json = args.clone();
    as_json.extend(["-o", "json"]);
    let json = dockhand(home.path(), &as_json, &[], "").await;
    assert_eq!(piped.stdout, json.stdout);
    let full = piped.json();
    assert!(
        full["results"][0]["digest"].as_str().unwrap().len() > 70,
        "{full}"
    );
    assert!(full["results"][0]["full_size"].is_u64(), "{full}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_is_field_value_rows_and_columns_choose_what_is_shown() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let object = [
        "--base-url",
        base.as_str(),
        "--no-cache",
        "-o",
        "table",
        "call",
        "get_repository",
        "library/alpine",
    ];
    let run = dockhand(home.path(), &object, &[], "").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["FIELD", "VALUE"]
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["is_private", "no"]),
        "{}",
        run.stdout
    );
    // Piped with -o table: no colour, nothing cut.
    assert!(
        !run.stdout.contains('\x1b') && !run.stdout.contains('…'),
        "{}",
        run.stdout
    );

    let mut picked = object.to_vec();
    picked.extend(["--columns", "name,namespace"]);
    let run = dockhand(home.path(), &picked, &[], "").await;
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["FIELD", "VALUE"],
            vec!["name", "alpine"],
            vec!["namespace", "library"]
        ],
        "{}",
        run.stdout
    );

    // A listing's columns by dotted path, in the order given.
    let run = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "-o",
            "table",
            "--columns",
            "status,name",
            "call",
            "list_repository_tags",
            "library/alpine",
        ],
        &[],
        "",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_eq!(
        first[0].split_whitespace().collect::<Vec<_>>(),
        ["STATUS", "NAME"]
    );
    assert!(first[1].starts_with("active"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn yaml_and_raw_print_the_same_result_in_their_forms() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let run_as = |format: &'static str, operation: &'static str, extra: &'static [&'static str]| {
        let (home, base) = (home.path().to_path_buf(), base.clone());
        async move {
            let mut args = vec![
                "--base-url",
                &base,
                "--no-cache",
                "-o",
                format,
                "call",
                operation,
            ];
            args.extend_from_slice(extra);
            dockhand(&home, &args, &[], "").await
        }
    };
    let json = run_as("json", "list_repository_tags", &["library/alpine"])
        .await
        .json();
    let yaml = run_as("yaml", "list_repository_tags", &["library/alpine"]).await;
    assert_eq!(yaml.code, 0, "{}", yaml.stderr);
    let from_yaml: serde_json::Value = serde_yaml::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, json);
    assert!(yaml.stdout.contains("\nresults:\n"), "{}", yaml.stdout);

    // raw: a document as the Hub sent it (the CSV export), without JSON quoting.
    let alice = [
        ("DOCKHAND_USERNAME", dockhand_mock::fixtures::ALICE),
        ("DOCKHAND_TOKEN", dockhand_mock::fixtures::ALICE_PAT),
    ];
    let csv = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "-o",
            "raw",
            "call",
            "export_org_members",
            "org_name=acme",
        ],
        &alice,
        "",
    )
    .await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let header = csv.stdout.lines().next().unwrap();
    assert!(
        header.contains("Username") && !header.starts_with('"') && !header.starts_with('{'),
        "{}",
        csv.stdout
    );
    let as_json = dockhand(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "export_org_members",
            "org_name=acme",
        ],
        &alice,
        "",
    )
    .await
    .json();
    assert_eq!(
        csv.stdout.trim_end(),
        as_json["body"].as_str().unwrap().trim_end()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_fit_the_terminal_and_colour_obeys_no_color() {
    let hub = MockHub::start(MockConfig::default()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let args = alpine_tags(&base);
    let (code, narrow) = on_a_terminal(home.path(), &args, &[], 50);
    assert_eq!(code, 0, "{narrow}");
    for line in text_of(&narrow).lines() {
        assert!(
            console::measure_text_width(line) <= 50,
            "{line:?} is wider than 50"
        );
    }
    assert!(narrow.contains('…'), "{narrow}");
    assert!(narrow.contains("\x1b[1mNAME"), "a bold header: {narrow:?}");

    let (code, plain) = on_a_terminal(home.path(), &args, &[("NO_COLOR", "1")], 200);
    assert_eq!(code, 0, "{plain}");
    assert!(
        plain.contains("NAME") && !plain.contains("\x1b[1m"),
        "{plain:?}"
    );
    assert!(
        !plain.contains('…'),
        "200 columns hold the whole table: {plain}"
    );
}

/// A repository description made to rewrite the terminal's title and clear the screen: the
/// table shows it as inert text, as does raw output on a terminal; piped, raw is byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_answer_reaches_the_terminal_inert() {
    let hostile = "pwn\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31mred\u{85}nel";
    let mut seed = Seed::builtin();
    seed.repositories.push(SeedRepository {
        namespace: "library".into(),
        name: "hostile".into(),
        description: hostile.into(),
        ..SeedRepository::default()
    });
    let hub = MockHub::start(MockConfig {
        seed,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let base = hub.base_url();
    let control = |screen: &str| {
        screen
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\r' | '\n'))
            .map(|c| format!("{:?}", c))
            .collect::<String>()
    };
    let script = r#"return app.integrations.docker.get_repository({namespace = "library", repository = "hostile"}).description"#;
    for args in [
        vec![
            "--columns",
            "name,description",
            "call",
            "list_repositories",
            "namespace=library",
        ],
        vec!["-o", "table", "call", "get_repository", "library/hostile"],
        vec!["call", "get_repository", "library/hostile"],
        vec!["lua", "--eval", script],
        vec!["-o", "yaml", "call", "get_repository", "library/hostile"],
        vec!["-o", "raw", "call", "get_repository", "library/hostile"],
    ] {
        let mut full = vec!["--base-url", base.as_str(), "--no-cache"];
        full.extend(args.iter().copied());
        let (code, screen) = on_a_terminal(home.path(), &full, &[("NO_COLOR", "1")], 200);
        assert_eq!(code, 0, "{screen}");
        assert!(screen.contains("pwn"), "{args:?}: {screen}");
        assert_eq!(
            control(&screen),
            "",
            "{args:?} let control characters through: {screen:?}"
        );
    }
    // An error's detail, on stderr, is shown inert too.
    hub.inject(dockhand_mock::Fault::new(
        dockhand_mock::FaultKind::Status {
            status: 409,
            body: Some(serde_json::json!({"message": hostile, "detail": hostile})),
        },
    ));
    let (code, screen) = on_a_terminal(
        home.path(),
        &[
            "--base-url",
            &base,
            "--no-cache",
            "call",
            "get_repository",
            "library/hostile",
        ],
        &[],
        200,
    );
    assert_eq!(code, 7, "{screen}");
    assert!(
        screen.contains("error: ") && screen.contains("pwn"),
        "{screen}"
    );
    assert_eq!(
        control(&screen),
        "",
        "the error let control characters through: {screen:?}"
    );

    // Piped, a script's text is byte for byte what the Hub sent.
    let piped = dockhand(
        home.path(),
        &["--base-url", &base, "--no-cache", "lua", "--eval", script],
        &[],
        "",
    )
    .await;
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stdout, format!("{hostile}\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_is_a_table_with_summaries() {
    let home = tempfile::tempdir().unwrap();
    let ops = dockhand(home.path(), &["ops", "repositories"], &[], "").await;
    assert_eq!(ops.code, 0, "{}", ops.stderr);
    let header: Vec<&str> = ops
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "ACCESS", "METHOD", "PATH", "SUMMARY"]);
    let tags = ops
        .stdout
        .lines()
        .find(|l| l.starts_with("list_repository_tags "))
        .unwrap();
    assert!(tags.contains("Returns the tags of a repository"), "{tags}");
}
