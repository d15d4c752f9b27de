//! https and wss: a rustls configuration from PEM files (`--tls-cert`/`--tls-key`), or from a
//! certificate made at start for this machine (`--self-signed`, rcgen).
//!
//! A self-signed certificate is not trusted by browsers; students accept it once after
//! comparing the SHA-256 fingerprint their browser shows with the one pushlab printed. TLS sits
//! above the socket tap, so the meter counts the encrypted bytes: what really crosses the wire.

use std::{net::IpAddr, path::Path, sync::Arc};

use anyhow::Context;
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
};

use crate::config::Config;

/// What serving TLS needs, and what to tell people about it.
pub struct Tls {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, as browsers show it (`AB:CD:...`).
    pub fingerprint: String,
    /// The leaf certificate (DER), for clients that must trust exactly this one (tests).
    pub certificate: CertificateDer<'static>,
}

/// The TLS setup the configuration asks for, if any.
pub fn from_config(config: &Config) -> anyhow::Result<Option<Tls>> {
    let (chain, key) = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => load_pem(cert, key)?,
        _ if config.self_signed => self_signed(config)?,
        _ => return Ok(None),
    };
    let certificate = chain[0].clone();
    let mut server =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .context("the certificate and the key do not go together")?;
    // pushlab speaks HTTP/1.1 only (WebSocket upgrades need it); say so in ALPN.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Tls {
        config: Arc::new(server),
        fingerprint: fingerprint(&certificate),
        certificate,
    }))
}

type Pair = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn load_pem(cert: &Path, key: &Path) -> anyhow::Result<Pair> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read --tls-cert {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("--tls-cert {} is not PEM certificates", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("--tls-cert {} holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("--tls-key {} holds no PEM private key", key.display()))?;
    Ok((chain, key))
}

/// A certificate for the names a lab machine is reached by: localhost, its loopback addresses,
/// the address pushlab is bound to, and the host name.
fn self_signed(config: &Config) -> anyhow::Result<Pair> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let bound: IpAddr = config.bind.ip();
    if !bound.is_unspecified() && !bound.is_loopback() {
        names.push(bound.to_string());
    }
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_owned());
        }
    }
    let made = rcgen::generate_simple_self_signed(names)
        .context("could not make a self-signed certificate")?;
    let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
        .map_err(|e| anyhow::anyhow!("the generated key: {e}"))?;
    Ok((vec![made.cert.der().clone()], key))
}

fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    ring::digest::digest(&ring::digest::SHA256, certificate.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_loads_and_has_a_fingerprint() {
        let mut config = Config::for_tests();
        config.self_signed = true;
        let tls = from_config(&config).unwrap().expect("TLS on");
        assert_eq!(tls.fingerprint.len(), 32 * 3 - 1);
        assert_eq!(tls.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn missing_files_say_which_flag_is_wrong() {
        let mut config = Config::for_tests();
        config.tls_cert = Some("/nonexistent/cert.pem".into());
        config.tls_key = Some("/nonexistent/key.pem".into());
        let error = from_config(&config).err().unwrap().to_string();
        assert!(error.contains("--tls-cert"), "{error}");
    }
}
