//! The catalog must match Docker's current OpenAPI description, fact for fact.

use dockhand_spec::Catalog;
use dockhand_spec::import::{compare, read_openapi};
use std::path::PathBuf;

fn shared_spec() -> Option<String> {
    let path = xtask::repo_root().join("../shared/spec/docker-hub-openapi.yaml");
    let path = std::env::var_os("DOCKHAND_OPENAPI")
        .map(PathBuf::from)
        .unwrap_or(path);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            // Visible in the test output: the comparison did not run, it did not pass.
            eprintln!(
                "SKIPPED: {} is absent; the catalog was not compared with it",
                path.display()
            );
            None
        }
    }
}

#[test]
fn catalog_matches_the_shared_openapi_description() {
    let Some(text) = shared_spec() else { return };
    let upstream = read_openapi(&text).expect("the description parses despite its known defects");
    assert_eq!(upstream.len(), 54);
    let report = compare(&Catalog::load_default().unwrap(), &upstream);
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.matched, 54);
    // The extended operations Docker's tools use are expected to be absent upstream.
    let unpublished: Vec<&str> = report
        .unpublished
        .iter()
        .map(|(name, _, _)| name.as_str())
        .collect();
    assert_eq!(
        unpublished.len(),
        6,
        "the catalog's extended operations: {unpublished:?}"
    );
    assert!(!printed_removed(&report), "{report}");
}

#[test]
fn the_importer_reports_changed_added_and_removed_operations() {
    let Some(text) = shared_spec() else { return };
    // Change a parameter's type, drop an operation, and add one.
    let edited = text
        .replacen("/v2/invites/bulk:", "/v2/invites/bulk-new:", 1)
        .replacen(
            "operationId: ListRepositoryTags",
            "operationId: ListTagsRenamed",
            1,
        );
    let upstream = read_openapi(&edited).unwrap();
    let report = compare(&Catalog::load_default().unwrap(), &upstream);
    let printed = report.to_string();
    assert!(
        printed.contains("added: POST /v2/invites/bulk-new"),
        "{printed}"
    );
    assert!(
        printed.contains("removed: bulk_create_invites"),
        "{printed}"
    );
    assert!(
        printed.contains("changed: list_repository_tags"),
        "{printed}"
    );
    assert!(printed.contains("ListTagsRenamed"), "{printed}");
}

#[test]
fn the_importer_compares_result_shapes() {
    let Some(text) = shared_spec() else { return };
    // A field of the personal access token list changes type upstream.
    let edited = text.replacen(
        "active_count:\n          type: number",
        "active_count:\n          type: string",
        1,
    );
    assert_ne!(edited, text, "the edit applies");
    let report = compare(
        &Catalog::load_default().unwrap(),
        &read_openapi(&edited).unwrap(),
    );
    let printed = report.to_string();
    assert!(
        printed.contains("changed: list_personal_access_tokens")
            && printed.contains(
                "`/properties/active_count/type`: catalog \"number\", upstream \"string\""
            ),
        "{printed}"
    );
    assert_eq!(report.changed.len(), 1, "{printed}");
}

#[test]
fn the_importer_notices_an_error_answer_it_does_not_know() {
    let Some(text) = shared_spec() else { return };
    // The validation error's summary changes type upstream.
    let edited = text.replacen(
        "            type: string\n        text:\n          type: string",
        "            type: string\n        text:\n          type: integer",
        1,
    );
    assert_ne!(edited, text, "the edit applies");
    let report = compare(
        &Catalog::load_default().unwrap(),
        &read_openapi(&edited).unwrap(),
    );
    let printed = report.to_string();
    assert!(
        printed.contains("error shape not in the catalog: 400 of ")
            && printed.contains(r#""text":{"type":"integer"}"#),
        "{printed}"
    );
    assert_eq!(report.changed.len(), 0, "{printed}");
}

fn printed_removed(report: &dockhand_spec::import::Report) -> bool {
    report.to_string().contains("removed: ")
}

#[test]
fn an_extended_operation_docker_starts_publishing_is_reported() {
    let Some(text) = shared_spec() else { return };
    // Upstream gains `GET /v2/user/`, which the catalog holds as unpublished.
    let edited = text.replacen(
        "paths:\n",
        "paths:\n  /v2/user/:\n    get:\n      operationId: GetCurrentUser\n      responses:\n        \"200\":\n          description: ok\n",
        1,
    );
    assert_ne!(edited, text, "the edit applies");
    let report = compare(
        &Catalog::load_default().unwrap(),
        &read_openapi(&edited).unwrap(),
    );
    let printed = report.to_string();
    assert!(
        printed.contains("changed: get_current_user") && printed.contains("published: false"),
        "{printed}"
    );
    assert_eq!(report.unpublished.len(), 5, "{printed}");
}
