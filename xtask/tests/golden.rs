//! Generated files must match what `cargo xtask gen` produces from the catalog today.

use dockhand_spec::Catalog;

#[test]
fn generated_files_are_fresh() {
    let catalog = Catalog::load_default().expect("the catalog loads");
    let root = xtask::repo_root();
    let files = xtask::generate(&catalog);
    let stale = xtask::stale_files(&root, &files);
    assert!(
        stale.is_empty(),
        "generated files are stale: {stale:?}\nrun `cargo xtask gen` and commit the result"
    );
}

#[test]
fn no_generated_file_is_left_over() {
    // A removed area must not leave its old interface behind in wit/.
    let catalog = Catalog::load_default().unwrap();
    let root = xtask::repo_root();
    let expected: Vec<_> = xtask::generate(&catalog)
        .into_iter()
        .map(|f| f.path)
        .collect();
    for entry in std::fs::read_dir(root.join("wit")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("gen-") {
            let path = std::path::PathBuf::from("wit").join(&name);
            assert!(
                expected.contains(&path),
                "{name} is not generated any more; delete it"
            );
        }
    }
}

#[test]
fn wit_has_a_function_and_doc_for_every_operation() {
    let catalog = Catalog::load_default().unwrap();
    let files = xtask::generate(&catalog);
    let wit: String = files
        .iter()
        .filter(|f| f.path.extension().is_some_and(|e| e == "wit"))
        .map(|f| f.text.as_str())
        .collect();
    for (_, op) in catalog.operations() {
        let func = format!("    {}: func(", dockhand_vocab::names::wit_ident(&op.name));
        let at = wit
            .find(&func)
            .unwrap_or_else(|| panic!("no WIT function for {}", op.name));
        let before = wit[..at].trim_end();
        assert!(
            before
                .lines()
                .last()
                .unwrap()
                .trim_start()
                .starts_with("///"),
            "{} has no doc comment",
            op.name
        );
    }
}

/// One package version everywhere it is written by hand: the WIT files and the bindings,
/// which name the interfaces they link with it.
#[test]
fn the_wit_version_is_the_same_everywhere() {
    let root = xtask::repo_root();
    let version = xtask::wit::WIT_VERSION;
    for file in ["wit/types.wit", "wit/credentials.wit", "wit/catalog.wit"] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(
            text.contains(&format!("package dockhand:hub@{version};")),
            "{file} does not declare dockhand:hub@{version}"
        );
    }
    for (file, line) in [
        (
            "bindings/node/src/index.js",
            format!("const WIT_VERSION = '{version}';"),
        ),
        (
            "bindings/python/dockhand/_hub.py",
            format!("WIT_VERSION = \"{version}\""),
        ),
        (
            "host/src/engine.rs",
            format!("\"dockhand:hub/catalog@{version}\""),
        ),
        (
            "tests/e2e/typed.rs",
            format!("const WIT_VERSION: &str = \"{version}\";"),
        ),
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(text.contains(&line), "{file} should contain {line}");
    }
}
