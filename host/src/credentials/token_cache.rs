//! The Hub JWT cache across processes: a bearer minted from a PAT, OAT or password is kept on
//! disk until shortly before its `exp`, so the next `dockhand` process calls the Hub once
//! instead of exchanging the secret first.
//!
//! What is kept, and where:
//! - only the minted JWT, never the secret: a file holds the token, its `exp`, the account's
//!   name and the exchange URL it was minted at;
//! - one file per account, exchange URL and credential: the file's name is a SHA-256 of the
//!   account, the URL, the kind of secret, the identifier and the secret, so another base URL
//!   or a changed secret never finds an old token (the digest cannot be turned back into the
//!   secret; see the README's security model for what it means for a weak password);
//! - in `<cache root>/tokens/`, the cache root being the component cache's
//!   (`$XDG_CACHE_HOME/dockhand`): the root must be the user's and writable by no one else, the
//!   `tokens` directory the user's with mode 0700 (made so if it is the user's and more open,
//!   its files then dropped; moved aside if it belongs to someone else), every file the user's,
//!   a regular file and unreadable by others (0600). A file failing a check is ignored, and
//!   replaced when the next token is written (through a temporary file and a rename).
//!
//! Everything here is best effort: a cache that cannot be read or written costs an exchange,
//! never a call. Nothing here prints or returns an error holding a token.

use std::fs::Metadata;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Secret;
use super::account::{AccountAuth, AccountSpec};
use crate::ownership::{Exposure, exposure};
use crate::policy::BaseUrl;

/// A cached bearer is not used within this many seconds of its `exp` (the broker's in-memory
/// cache keeps the same margin).
pub(crate) const REFRESH_MARGIN_SECS: i64 = 60;

/// The name of the directory under the cache root.
const TOKENS_DIR: &str = "tokens";

/// Where the Hub answers an exchange for `base`: the URL a cached token is keyed by.
pub fn exchange_url(base: &BaseUrl) -> String {
    base.join("/v2/auth/token")
}

/// The on-disk JWT cache of one user. Opt-in for the library ([`Accounts::with_token_cache`]);
/// the `dockhand` executable turns it on unless `--no-token-cache` or `token_cache: false`.
///
/// [`Accounts::with_token_cache`]: super::Accounts::with_token_cache
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    root: PathBuf,
}

/// What one file holds.
#[derive(Serialize, Deserialize)]
struct Entry {
    /// The exchange URL the token was minted at.
    url: String,
    /// The account's canonical name (for a person looking at the directory).
    account: String,
    /// The token's `exp`, seconds since the Unix epoch.
    exp: i64,
    token: String,
}

impl TokenCache {
    /// A cache under `cache_root` (the directory the component cache uses), in its `tokens`
    /// directory.
    pub fn new(cache_root: impl Into<PathBuf>) -> TokenCache {
        TokenCache {
            root: cache_root.into(),
        }
    }

    /// The directory the token files are kept in.
    pub fn dir(&self) -> PathBuf {
        self.root.join(TOKENS_DIR)
    }

    /// Until when (`exp`, Unix seconds) a usable token for `spec` minted at `base` is cached,
    /// if one is: what `dockhand accounts` shows. Reads only; never the token.
    pub fn cached_until(&self, spec: &AccountSpec, base: &BaseUrl) -> Option<i64> {
        let url = exchange_url(base);
        let key = key_for(spec, &url)?;
        self.trusted_dir(false)?;
        self.read(&key, &url).map(|(_, exp)| exp)
    }

    /// The usable token under `key` for `url`, with its `exp`: `None` when there is none, it
    /// fails a check, was minted elsewhere or is within the margin of its expiry.
    pub(crate) fn load(&self, key: &str, url: &str) -> Option<(Secret, i64)> {
        self.trusted_dir(false)?;
        self.read(key, url)
    }

    /// Keeps `bearer` (expiring at `exp`) under `key`. Best effort.
    pub(crate) fn store(&self, key: &str, url: &str, account: &str, bearer: &Secret, exp: i64) {
        if exp - REFRESH_MARGIN_SECS <= now_unix() {
            return;
        }
        let Some(dir) = self.trusted_dir(true) else {
            return;
        };
        let entry = Entry {
            url: url.to_owned(),
            account: account.to_owned(),
            exp,
            token: bearer.expose().to_owned(),
        };
        let Ok(text) = serde_json::to_vec(&entry) else {
            return;
        };
        // tempfile creates the file 0600; the rename replaces whatever was there (a file that
        // failed a check included) in one step.
        let Ok(mut tmp) = tempfile::Builder::new().prefix(".tmp-").tempfile_in(&dir) else {
            return;
        };
        if tmp.write_all(&text).is_ok() {
            let _ = tmp.persist(dir.join(file_name(key)));
        }
    }

    /// Drops the token under `key` (after the Hub refused it). Best effort.
    pub(crate) fn remove(&self, key: &str) {
        if let Some(dir) = self.trusted_dir(false) {
            let _ = std::fs::remove_file(dir.join(file_name(key)));
        }
    }

    fn read(&self, key: &str, url: &str) -> Option<(Secret, i64)> {
        let path = self.dir().join(file_name(key));
        let mut file = open_no_follow(&path)?;
        let meta = file.metadata().ok()?;
        if !private_file(&meta) || meta.len() > 64 * 1024 {
            return None;
        }
        let mut text = Vec::new();
        file.read_to_end(&mut text).ok()?;
        let entry: Entry = serde_json::from_slice(&text).ok()?;
        (entry.url == url
            && !entry.token.is_empty()
            && entry.exp - REFRESH_MARGIN_SECS > now_unix())
        .then(|| (Secret::new(entry.token), entry.exp))
    }

    /// The `tokens` directory if it can be trusted (creating it when `create`), after making an
    /// open one of ours private and moving one of someone else's aside.
    fn trusted_dir(&self, create: bool) -> Option<PathBuf> {
        let dir = self.dir();
        if create {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&dir).ok()?;
        }
        // The root: anyone who can write it can swap `tokens` for their own at any time.
        let root = std::fs::symlink_metadata(&self.root).ok()?;
        if !root.is_dir() || exposure(&root, 0o022).is_some() {
            return None;
        }
        let meta = std::fs::symlink_metadata(&dir).ok()?;
        if !meta.is_dir() {
            return None;
        }
        match exposure(&meta, 0o077) {
            None => Some(dir),
            Some(Exposure::OpenMode { .. }) => {
                // Ours but open to others: close it, and trust nothing they could have put in.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok()?;
                }
                for entry in std::fs::read_dir(&dir).ok()?.flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
                let meta = std::fs::symlink_metadata(&dir).ok()?;
                exposure(&meta, 0o077).is_none().then_some(dir)
            }
            Some(Exposure::OtherOwner { .. }) => {
                if !create {
                    return None;
                }
                // Someone else's: never read; moved aside (kept for the user to look at) and
                // replaced by one of ours.
                let aside = self.root.join(format!(
                    "{TOKENS_DIR}.untrusted-{}-{}",
                    std::process::id(),
                    now_unix()
                ));
                std::fs::rename(&dir, aside).ok()?;
                self.trusted_dir(true)
            }
        }
    }
}

/// The cache key of `spec`'s secret at the exchange `url`, if the account has a secret that is
/// exchanged (PAT, OAT or password).
pub(crate) fn key_for(spec: &AccountSpec, url: &str) -> Option<String> {
    let (identifier, secret) = spec.auth.exchange_pair()?;
    Some(key(&spec.name, url, &spec.auth, identifier, secret))
}

fn key(account: &str, url: &str, auth: &AccountAuth, identifier: &str, secret: &Secret) -> String {
    let mut h = Sha256::new();
    for part in [
        "dockhand token cache v1",
        account,
        url,
        auth.describe(),
        identifier,
        secret.expose(),
    ] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_name(key: &str) -> String {
    format!("jwt-{key}.json")
}

/// A regular file of the current user that no one else may read or write.
fn private_file(meta: &Metadata) -> bool {
    meta.is_file() && exposure(meta, 0o077).is_none()
}

fn open_no_follow(path: &Path) -> Option<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    options.open(path).ok()
}

pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const URL: &str = "https://hub.example/v2/auth/token";

    fn cache() -> (tempfile::TempDir, TokenCache) {
        let scratch = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(scratch.path().join("cache"));
        (scratch, cache)
    }

    fn only_file(dir: &Path) -> PathBuf {
        let files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }

    #[test]
    fn a_stored_token_comes_back_for_its_url_only() {
        let (_s, cache) = cache();
        let exp = now_unix() + 600;
        cache.store("k", URL, "default", &Secret::new("jwt-1"), exp);
        let (bearer, until) = cache.load("k", URL).unwrap();
        assert_eq!((bearer.expose(), until), ("jwt-1", exp));
        assert!(
            cache
                .load("k", "https://other.example/v2/auth/token")
                .is_none()
        );
        assert!(cache.load("other", URL).is_none());

        let file = only_file(&cache.dir());
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let dir = std::fs::metadata(cache.dir()).unwrap();
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
        cache.remove("k");
        assert!(cache.load("k", URL).is_none());
    }

    #[test]
    fn a_token_near_or_past_its_expiry_is_neither_kept_nor_used() {
        let (_s, cache) = cache();
        cache.store("k", URL, "default", &Secret::new("jwt-1"), now_unix() + 30);
        assert!(cache.load("k", URL).is_none());
        assert!(!cache.dir().exists() || std::fs::read_dir(cache.dir()).unwrap().count() == 0);
        // One written by hand (or by a clock that has moved on) is not used either.
        cache.store("k", URL, "default", &Secret::new("jwt-1"), now_unix() + 600);
        let file = only_file(&cache.dir());
        let text = std::fs::read_to_string(&file).unwrap();
        let mut entry: serde_json::Value = serde_json::from_str(&text).unwrap();
        entry["exp"] = (now_unix() - 1).into();
        std::fs::write(&file, entry.to_string()).unwrap();
        assert!(cache.load("k", URL).is_none());
    }

    #[test]
    fn a_file_open_to_others_is_ignored_and_replaced() {
        let (_s, cache) = cache();
        cache.store("k", URL, "default", &Secret::new("jwt-1"), now_unix() + 600);
        let file = only_file(&cache.dir());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(cache.load("k", URL).is_none());
        cache.store("k", URL, "default", &Secret::new("jwt-2"), now_unix() + 600);
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(cache.load("k", URL).unwrap().0.expose(), "jwt-2");
    }

    #[test]
    fn a_symlink_is_not_followed() {
        let (s, cache) = cache();
        cache.store("k", URL, "default", &Secret::new("jwt-1"), now_unix() + 600);
        let file = only_file(&cache.dir());
        let elsewhere = s.path().join("elsewhere");
        std::fs::rename(&file, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
        assert!(cache.load("k", URL).is_none());
    }

    #[test]
    fn an_open_directory_of_ours_is_closed_and_emptied() {
        let (_s, cache) = cache();
        cache.store("k", URL, "default", &Secret::new("jwt-1"), now_unix() + 600);
        std::fs::set_permissions(cache.dir(), std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(cache.load("k", URL).is_none());
        let dir = std::fs::metadata(cache.dir()).unwrap();
        assert_eq!(dir.permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn a_directory_of_another_user_is_never_read_and_is_moved_aside() {
        if crate::ownership::current_uid() != 0 {
            return; // Only root can give a directory away.
        }
        let (_s, cache) = cache();
        cache.store("k", URL, "default", &Secret::new("jwt-1"), now_unix() + 600);
        std::os::unix::fs::chown(cache.dir(), Some(65534), Some(65534)).unwrap();
        assert!(cache.load("k", URL).is_none());
        cache.store("k", URL, "default", &Secret::new("jwt-2"), now_unix() + 600);
        assert_eq!(cache.load("k", URL).unwrap().0.expose(), "jwt-2");
        let aside = std::fs::read_dir(&cache.root)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("tokens.untrusted-")
            })
            .count();
        assert_eq!(aside, 1);
    }

    #[test]
    fn keys_differ_by_account_url_and_secret() {
        let auth = |token: &str| AccountAuth::PersonalToken {
            username: "alice".into(),
            token: Secret::new(token),
        };
        let k = |account: &str, url: &str, token: &str| {
            let a = auth(token);
            let (id, secret) = a.exchange_pair().unwrap();
            key(account, url, &a, id, secret)
        };
        let base = k("default", URL, "dckr_pat_a");
        assert_eq!(base, k("default", URL, "dckr_pat_a"));
        assert_ne!(base, k("work", URL, "dckr_pat_a"));
        assert_ne!(
            base,
            k("default", "http://127.0.0.1:1/v2/auth/token", "dckr_pat_a")
        );
        assert_ne!(base, k("default", URL, "dckr_pat_b"));
        assert!(!base.contains("dckr_pat"));
    }
}
