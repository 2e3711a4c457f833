//! rustls client configuration shared by the IMAP connections.
//!
//! The Mozilla roots are compiled in (`webpki-roots`), as for the HTTP
//! transport, so TLS behaves the same in a scratch container; an account
//! may add its own CA (`extra_root_pem`) for a private mail server.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::error::{EmailError, Result};

/// Parses every certificate in `pem`; at least one is required.
pub(crate) fn parse_pem_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| EmailError::InvalidRootCertificate {
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(EmailError::InvalidRootCertificate {
            reason: "no certificate found".to_owned(),
        });
    }
    Ok(certs)
}

/// A client configuration trusting the Mozilla roots plus `extra_root_pem`.
///
/// Uses the ring provider explicitly, so it works whatever other rustls
/// providers the final binary happens to enable.
pub(crate) fn client_config(extra_root_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_root_pem {
        for cert in parse_pem_certificates(pem)? {
            roots
                .add(cert)
                .map_err(|e| EmailError::InvalidRootCertificate {
                    reason: e.to_string(),
                })?;
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|source| EmailError::TlsConfig { source })?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_pem_without_certificates() {
        let err = client_config(Some(b"not a pem")).unwrap_err();
        assert!(
            matches!(err, EmailError::InvalidRootCertificate { .. }),
            "{err}"
        );
    }

    #[test]
    fn builds_with_webpki_roots_only() {
        assert!(client_config(None).is_ok());
    }
}
