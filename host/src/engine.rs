//! Compiling the component once: the wasmtime engine, the on-disk cache of precompiled
//! components, and the linker that gives the guest only what it needs.

use crate::bindings::PluginIndices;
use crate::bindings::exports::dockhand::hub::catalog::GuestIndices as CatalogIndices;
use crate::ownership::{Exposure, exposure};
use crate::store::CallState;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker};
use wasmtime::error::Context;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime::{Result, bail, format_err};

/// The component built with this host (see build.rs).
pub static EMBEDDED_COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/dockhand_plugin.wasm"));

/// How often the epoch advances; a guest that computes without yielding is interrupted at
/// this granularity so that the call deadline can fire.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Where the component came from and how it was made ready, for `dockhand precompile` and the
/// benchmarks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadedFrom {
    /// Compiled now (and, when a cache directory is set, written to it).
    Compiled,
    /// Read from the precompiled cache.
    Cache(PathBuf),
}

/// A compiled component, ready to instantiate any number of times.
pub struct Runtime {
    pub(crate) engine: Engine,
    pub(crate) pre: InstancePre<CallState>,
    /// Where every export is, found once: loading the whole world into a new instance then
    /// skips the string lookups (its type checks remain).
    pub(crate) plugin_exports: PluginIndices,
    /// The same for the `catalog` interface alone: a dynamic call, the common case, type-checks
    /// its three functions per instance instead of all of the world's.
    pub(crate) catalog_exports: CatalogIndices,
    /// `catalog.call` alone: what `Dockhand::call` runs, so a fresh instance type-checks that
    /// one function instead of the interface's three.
    pub(crate) catalog_call: ComponentExportIndex,
    /// Whether this start compiled the component or found it in the cache.
    pub loaded_from: LoadedFrom,
    /// Whether instances come from the pooling allocator; `false` where it could not reserve
    /// its address space (a tight `ulimit -v`, say) and each instance maps its own memory.
    pub pooling: bool,
    _ticker: Arc<EpochTicker>,
}

impl Runtime {
    /// Compiles `wasm` (or loads it from `cache_dir`) and links it.
    pub fn new(wasm: &[u8], cache_dir: Option<&Path>) -> Result<Runtime> {
        let (engine, pooling) = build_engine()?;
        let (component, loaded_from) = match cache_dir {
            Some(dir) => load_cached(&engine, wasm, dir)?,
            None => (
                Component::new(&engine, wasm).context("compiling the component")?,
                LoadedFrom::Compiled,
            ),
        };
        let mut linker: Linker<CallState> = Linker::new(&engine);
        // The guest's WASI is empty (no environment, arguments, files or sockets). All of WASI
        // p2 is linked, though our component imports only io, clocks and random of it, so that
        // a component built with std, which imports cli as well (an older build given to the
        // benchmark's `--component`), links too.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        crate::outgoing::add_to_linker(&mut linker)?;
        crate::bindings::dockhand::hub::credentials::add_to_linker::<CallState, CallState>(
            &mut linker,
            |s| s,
        )?;
        let pre = linker.instantiate_pre(&component)?;
        let plugin_exports = PluginIndices::new(&pre)?;
        let catalog_exports = CatalogIndices::new(&pre)?;
        let catalog_call = export_index(&component, CATALOG_INTERFACE, "call")?;
        let ticker = EpochTicker::start(&engine);
        Ok(Runtime {
            engine,
            pre,
            plugin_exports,
            catalog_exports,
            catalog_call,
            loaded_from,
            pooling,
            _ticker: ticker,
        })
    }

    /// The engine the component was compiled for: what anything else run alongside it, such as
    /// a precompiled artefact loaded for comparison, must be loaded into.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// The interface that describes the operations and runs any of them by name.
const CATALOG_INTERFACE: &str = "dockhand:hub/catalog@0.4.0";

/// Where `function` of the exported `interface` is in `component`.
fn export_index(
    component: &Component,
    interface: &str,
    function: &str,
) -> Result<ComponentExportIndex> {
    let missing = || format_err!("the component does not export `{interface}.{function}`");
    let interface = component
        .get_export_index(None, interface)
        .ok_or_else(missing)?;
    component
        .get_export_index(Some(&interface), function)
        .ok_or_else(missing)
}

fn config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // `DOCKHAND_PROFILE=perfmap` names the guest's compiled functions for `perf report`
    // (see BENCHMARKS.md); it changes the engine's settings, so the cache keeps a separate file.
    if std::env::var_os("DOCKHAND_PROFILE").is_some_and(|v| v == "perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// The most of a slot's written memory kept resident (zeroed) between instances: more than
/// one call writes, so an ordinary call never returns pages to the kernel.
const KEEP_RESIDENT_BYTES: usize = 2 << 20;

/// The pooling allocator makes instantiation a few microseconds, but reserves address space up
/// front; where the machine refuses that (small `ulimit -v`), the default allocator serves.
fn build_engine() -> Result<(Engine, bool)> {
    let mut pooled = config();
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(256)
        .total_memories(256)
        .total_tables(256)
        .total_core_instances(256)
        .max_memory_size(64 << 20)
        // A returned slot is reset by zeroing, with memset, only the pages its call wrote
        // (found through Linux's PAGEMAP_SCAN), up to this much; the default is one madvise
        // per instance, which takes the pages away (the next call faults them all back in)
        // and, with more than one thread, interrupts every core to flush its TLB.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES / 16)
        // Without the scan, "keep resident" would memset the lowest addresses whether written
        // or not, making each slot's whole memory resident. Where the kernel (< 6.7) lacks
        // it, the plain madvise reset serves.
        .pagemap_scan(Enabled::Auto);
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&pooled) {
        Ok(engine) => Ok((engine, true)),
        Err(_) => Ok((Engine::new(&config())?, false)),
    }
}

/// The cache key: the component's bytes, this wasmtime's version and the engine's settings.
/// A file made by another version or configuration gets another name and is never tried.
fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut settings = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut settings);
    let mut h = Sha256::new();
    h.update(b"dockhand precompiled component v1\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(settings.finish().to_le_bytes());
    h.update(wasm);
    let digest = h.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Loads the precompiled component for `wasm` from `dir`, or compiles and stores it.
///
/// Deserialising runs native code from the file, in the process that holds every secret, so
/// the directory and the files loaded from it must be this user's and writable by no one else
/// (anything else is refused, naming the path), and the file's checksum (kept beside it) must
/// match: a stale, truncated or corrupt file is compiled again and replaced.
fn load_cached(engine: &Engine, wasm: &[u8], dir: &Path) -> Result<(Component, LoadedFrom)> {
    ensure_private_dir(dir)?;
    let key = cache_key(engine, wasm);
    let path = dir.join(format!("component-{key}.cwasm"));
    let sum_path = dir.join(format!("component-{key}.sha256"));
    if let (Some((file, bytes)), Some((_, sum))) = (read_private(&path)?, read_private(&sum_path)?)
        && hex_sha256(&bytes).as_bytes() == sum.trim_ascii()
    {
        // Mapped rather than deserialised from `bytes`: that would copy the whole artefact into
        // fresh memory, page fault by page fault, most of a load's time (BENCHMARKS.md, round 5).
        // Mapped through the descriptor that was checked, not by its path again: a directory
        // above the cache that others can write could otherwise swap the file in between.
        //
        // SAFETY: the file was written by `Engine::precompile_component` of an engine with the
        // same settings (the key says so), it is this user's and no one else's to write, and
        // its checksum matches; wasmtime checks the version and settings in the header again.
        // This host only ever replaces a cache file whole (written aside, then renamed over),
        // so no writer of ours truncates the mapped file.
        drop(bytes);
        if let Ok(component) = unsafe { Component::deserialize_file(engine, checked(&file)) } {
            return Ok((component, LoadedFrom::Cache(path)));
        }
    }
    let bytes = engine
        .precompile_component(wasm)
        .context("compiling the component")?;
    // SAFETY: the bytes are what this engine's `precompile_component` has just produced.
    let component = unsafe { Component::deserialize(engine, &bytes) }
        .context("loading the compiled component")?;
    write_atomically(&path, &bytes)?;
    write_atomically(&sum_path, hex_sha256(&bytes).as_bytes())?;
    Ok((component, LoadedFrom::Compiled))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file's bytes (`None` when there is no such file), checked as [`check_private`] says on
/// the file that was opened, not on whatever the path names a moment later.
fn read_private(path: &Path) -> Result<Option<(std::fs::File, Vec<u8>)>> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    check_private(path, &meta)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Some((file, bytes)))
}

/// A path that opens the very file `file` is (`/dev/fd/N`), whatever its name now points to.
/// Where there is no such path the load fails and the component is compiled again: slower,
/// never less safe.
fn checked(file: &std::fs::File) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/dev/fd/{}", file.as_raw_fd()))
}

/// Writes `bytes` to a temporary file of its own in the same directory, then renames it over
/// `path`: a reader never sees half a file, and two writers (two hosts starting at once on an
/// empty cache) never share a temporary name. The temporary file is removed on error.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("writing a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn ensure_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let meta = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    #[cfg(unix)]
    if let Some(Exposure::OpenMode { .. }) = exposure(&meta, CACHE_FORBIDDEN) {
        // Ours but shared with the group or everyone: make it private, then check again.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        let meta = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
        return check_private(dir, &meta);
    }
    check_private(dir, &meta)
}

/// What no one but the owner may do to the cache: write to it.
const CACHE_FORBIDDEN: u32 = 0o022;

/// Whether the file is the current user's and no one else may write it: the condition for
/// running native code from it.
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    match exposure(meta, CACHE_FORBIDDEN) {
        None => Ok(()),
        Some(Exposure::OtherOwner { uid }) => bail!(
            "{} belongs to another user (uid {uid}), and compiled code is loaded only from the \
             current user's files; remove it or choose another cache directory",
            path.display(),
        ),
        Some(Exposure::OpenMode { mode }) => bail!(
            "{} can be written by other users (mode {mode:04o}); compiled code is loaded only \
             from files no one else can change: run `chmod go-w` on it or use another cache \
             directory",
            path.display(),
        ),
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/dockhand`, else `~/.cache/dockhand`. A
/// relative `XDG_CACHE_HOME` is ignored, as the XDG specification asks (and as the config
/// file's lookup does): it would put native code wherever the command happens to run.
pub fn default_cache_dir() -> Option<PathBuf> {
    cache_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
}

fn cache_dir_from(
    xdg_cache_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    if let Some(xdg) = xdg_cache_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Some(xdg.join("dockhand"));
    }
    home.map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .map(|home| home.join(".cache").join("dockhand"))
}

/// Advances the engine's epoch while a runtime exists.
struct EpochTicker {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> Arc<EpochTicker> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("dockhand-epoch".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawn the epoch thread");
        Arc::new(EpochTicker { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A directory that belongs to someone else: as root, a fresh one handed to `nobody`;
    /// otherwise one of the system's own, which root owns.
    fn foreign_dir(scratch: &Path) -> PathBuf {
        if crate::ownership::current_uid() == 0 {
            let dir = scratch.join("theirs");
            std::fs::create_dir(&dir).unwrap();
            std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            dir
        } else {
            PathBuf::from("/usr")
        }
    }

    #[test]
    fn a_cache_directory_of_another_user_is_refused() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = foreign_dir(scratch.path());
        let (engine, _) = build_engine().unwrap();
        let err =
            load_cached(&engine, b"not reached", &dir).expect_err("a foreign directory is refused");
        let message = format!("{err:#}");
        assert!(message.contains("belongs to another user"), "{message}");
        assert!(message.contains(&dir.display().to_string()), "{message}");
    }

    #[test]
    fn cache_files_of_another_user_or_writable_by_others_are_refused() {
        let (engine, _) = build_engine().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (_, from) = load_cached(&engine, EMBEDDED_COMPONENT, dir.path()).unwrap();
        assert_eq!(from, LoadedFrom::Compiled);
        let cwasm = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
            .unwrap();
        let (_, from) = load_cached(&engine, EMBEDDED_COMPONENT, dir.path()).unwrap();
        assert_eq!(from, LoadedFrom::Cache(cwasm.clone()));

        std::fs::set_permissions(&cwasm, std::fs::Permissions::from_mode(0o666)).unwrap();
        let message = format!(
            "{:#}",
            load_cached(&engine, EMBEDDED_COMPONENT, dir.path())
                .expect_err("a world-writable artefact is refused")
        );
        assert!(
            message.contains("can be written by other users"),
            "{message}"
        );
        assert!(message.contains(&cwasm.display().to_string()), "{message}");
        std::fs::set_permissions(&cwasm, std::fs::Permissions::from_mode(0o644)).unwrap();

        if crate::ownership::current_uid() == 0 {
            std::os::unix::fs::chown(&cwasm, Some(65534), None).unwrap();
            let message = format!(
                "{:#}",
                load_cached(&engine, EMBEDDED_COMPONENT, dir.path())
                    .expect_err("an artefact of another user is refused")
            );
            assert!(message.contains("belongs to another user"), "{message}");
        }
    }

    #[test]
    fn a_shared_cache_directory_of_ours_is_made_private() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().join("cache");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        ensure_private_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn concurrent_writers_of_one_cache_file_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("component-x.cwasm");
        std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = &path;
                    scope
                        .spawn(move || (0..50).try_for_each(|_| write_atomically(path, &[i; 4096])))
                })
                .collect();
            for writer in writers {
                writer.join().unwrap().expect("every writer succeeds");
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() == 4096 && bytes.iter().all(|b| *b == bytes[0]));
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_relative_xdg_cache_home_is_ignored() {
        let dir = |xdg: Option<&str>, home: Option<&str>| {
            cache_dir_from(xdg.map(Into::into), home.map(Into::into))
        };
        assert_eq!(
            dir(Some("/var/cache/me"), Some("/home/me")),
            Some(PathBuf::from("/var/cache/me/dockhand"))
        );
        assert_eq!(
            dir(Some("cache"), Some("/home/me")),
            Some(PathBuf::from("/home/me/.cache/dockhand"))
        );
        assert_eq!(dir(Some(""), Some("/home/me")), dir(None, Some("/home/me")));
        assert_eq!(dir(Some("cache"), Some("relative")), None);
    }
}
