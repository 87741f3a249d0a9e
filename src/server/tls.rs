//! TLS for the wire protocol (rustls): the acceptor pgwire uses when a client sends SSLRequest.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{TlsConfig, TlsMode};
use crate::error::{Error, ErrorKind, Result};

/// The acceptor for `[tls]`, or None when TLS is disabled.
pub fn acceptor(tls: &TlsConfig) -> Result<Option<pgwire::tokio::TlsAcceptor>> {
    if tls.mode == TlsMode::Disable {
        return Ok(None);
    }
    let missing = |what: &str| {
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("tls.mode = {:?} needs tls.{what}", tls.mode),
        )
        .with_hint("`deltagres cert --out certs --host localhost` makes a development pair")
    };
    let cert_path = tls.cert.as_ref().ok_or_else(|| missing("cert"))?;
    let key_path = tls.key.as_ref().ok_or_else(|| missing("key"))?;
    let bad = |path: &std::path::Path, e: String| {
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("{}: {e}", path.display()),
        )
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| bad(cert_path, e.to_string()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(cert_path, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(cert_path, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| bad(key_path, e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| bad(cert_path, e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| bad(cert_path, e.to_string()))?;
    Ok(Some(pgwire::tokio::TlsAcceptor::from(Arc::new(config))))
}

/// A development CA and a server certificate for `host` signed by it, as PEM:
/// (ca.crt, server.crt, server.key).
pub fn development_certificates(host: &str) -> Result<(String, String, String)> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let err = |e: rcgen::Error| Error::internal(format!("certificate generation: {e}"));
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "deltagres development CA");
    let ca_key = KeyPair::generate().map_err(err)?;
    let ca = ca_params.self_signed(&ca_key).map_err(err)?;
    let mut params = CertificateParams::new(vec![host.to_string()]).map_err(err)?;
    params.distinguished_name.push(DnType::CommonName, host);
    let key = KeyPair::generate().map_err(err)?;
    let cert = params.signed_by(&key, &ca, &ca_key).map_err(err)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}
