//! TLS for `dockhand serve` (`--tls-cert`, `--tls-key`): rustls on ring, as the host's client
//! uses, TLS 1.2 and 1.3, HTTP/1.1 by ALPN. The private key gets the checks every secret file
//! gets: the user's own, unreadable by others.

use super::ServeError;
use crate::ownership::{Exposure, exposure};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// Group and other may not read or write the key.
const KEY_FORBIDDEN: u32 = 0o066;

fn refused(path: &Path, why: impl std::fmt::Display) -> ServeError {
    ServeError::Refused(format!("{}: {why}", path.display()))
}

/// The server configuration for the certificate chain in `cert` and the private key in `key`
/// (both PEM).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    let chain_pem = std::fs::read(cert).map_err(|e| refused(cert, e))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| refused(cert, format!("not a PEM certificate chain ({e})")))?;
    if chain.is_empty() {
        return Err(refused(cert, "holds no certificate"));
    }
    let file = std::fs::File::open(key).map_err(|e| refused(key, e))?;
    let meta = file.metadata().map_err(|e| refused(key, e))?;
    match exposure(&meta, KEY_FORBIDDEN) {
        None => {}
        Some(Exposure::OtherOwner { uid }) => {
            return Err(refused(key, format!("belongs to another user (uid {uid})")));
        }
        Some(Exposure::OpenMode { mode }) => {
            return Err(refused(
                key,
                format!(
                    "is readable or writable by other users (mode {mode:04o}); run `chmod 600 {}`",
                    key.display()
                ),
            ));
        }
    }
    let key_pem = std::io::read_to_string(file).map_err(|e| refused(key, e))?;
    let private = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| refused(key, "not a PEM private key"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServeError::Refused(format!("TLS: {e}")))?
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .map_err(|e| refused(cert, format!("does not go with the key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
