//! TLS for the mock ([`MockConfig::tls`](crate::MockConfig::tls)): a certificate made at start,
//! signed by itself, for `127.0.0.1` and `localhost`, and ALPN offering HTTP/2 before HTTP/1.1,
//! as the Hub's front end does. A client trusts it by adding
//! [`MockHub::certificate_der`](crate::MockHub::certificate_der) to its roots; nothing else in
//! the world trusts it, so it cannot stand in for another server.

use std::io;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{ServerConfig, crypto};

/// What a TLS mock needs: the acceptor and the certificate clients are to trust.
pub(crate) struct Tls {
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) certificate: Vec<u8>,
}

/// A fresh self-signed identity and the acceptor that presents it.
pub(crate) fn self_signed() -> io::Result<Tls> {
    let invalid = |e: &dyn std::fmt::Display| io::Error::other(format!("mock TLS: {e}"));
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(|e| invalid(&e))?;
    let certificate = certified.cert.der().to_vec();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    // ring, passed explicitly, as the host does: the process default may be ambiguous.
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![certificate.clone().into()], key)
            .map_err(|e| invalid(&e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        certificate,
    })
}
