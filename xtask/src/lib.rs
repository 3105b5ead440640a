//! Code generation from the catalog. Everything generated is produced here, in memory, so the
//! golden test can compare it with the files on disk.

use dockhand_spec::Catalog;
use std::path::{Path, PathBuf};

/// A generated file: path relative to the repository root, and its full text.
pub struct GeneratedFile {
    pub path: PathBuf,
    pub text: String,
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

pub fn generate(_catalog: &Catalog) -> Vec<GeneratedFile> {
    Vec::new()
}

/// The generated files whose text on disk differs from `files`.
pub fn stale_files(root: &Path, files: &[GeneratedFile]) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(root.join(&f.path)).ok().as_deref() != Some(f.text.as_str())
        })
        .map(|f| f.path.clone())
        .collect()
}

pub fn write_files(root: &Path, files: &[GeneratedFile]) -> std::io::Result<()> {
    for f in files {
        let path = root.join(&f.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, &f.text)?;
    }
    Ok(())
}
