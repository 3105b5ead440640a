//! ARCHITECTURE.md names files in the order one call passes through them; a newcomer must find
//! every one of them.

/// Every `path/like/this.rs` (or `dir/`) written in backticks in ARCHITECTURE.md exists.
#[test]
fn every_file_architecture_md_names_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let named: Vec<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| {
            quoted.contains('/')
                && !quoted.contains([' ', '*', ':'])
                && !quoted.starts_with("dockhand")
        })
        .collect();
    assert!(
        named.len() > 30,
        "only {} paths found: {named:?}",
        named.len()
    );
    let missing: Vec<&&str> = named
        .iter()
        .filter(|path| !root.join(path.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names missing files: {missing:?}"
    );
}
