//! Whether a file or directory is the current user's own: what the compiled-component cache
//! (native code, run in the process that holds every secret) and the credential files (secrets)
//! both require before their contents are trusted.

use std::fs::Metadata;

/// How a file is open to other users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exposure {
    /// Another user owns it (and so can change it, or its permissions).
    OtherOwner { uid: u32 },
    /// Its permission bits grant others some of the `forbidden` bits.
    OpenMode { mode: u32 },
}

/// How `meta` is exposed, if it is: owned by someone other than the current user, or with
/// any of the `forbidden` permission bits set (`0o022`: writable by group or others; `0o066`:
/// readable or writable by them).
#[cfg(unix)]
pub(crate) fn exposure(meta: &Metadata, forbidden: u32) -> Option<Exposure> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != current_uid() {
        return Some(Exposure::OtherOwner { uid: meta.uid() });
    }
    (meta.mode() & forbidden != 0).then_some(Exposure::OpenMode {
        mode: meta.mode() & 0o7777,
    })
}

#[cfg(not(unix))]
pub(crate) fn exposure(_meta: &Metadata, _forbidden: u32) -> Option<Exposure> {
    None
}

/// The effective user id of this process.
#[cfg(unix)]
pub(crate) fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}
