//! Secrets as handles: sign, verify and authenticate with a secret the
//! plugin can never read.
//!
//! A plugin opens a secret by a name its manifest lists under `secrets`;
//! the operator configures the value. The key stays in the host: an HMAC is
//! computed there, and a [`Secret::header_placeholder`] is replaced by the
//! value only when a request leaves, only in headers or the URL's path and
//! query, only towards an allowed host. Needs the `secrets` capability. In a native build there is
//! no host and [`Secret::open`] returns [`SecretError::Denied`].

use crate::types::PluginError;

/// Why a secret could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The `secrets` capability is not granted, or the manifest does not
    /// list this name.
    #[error(
        "secret `{name}` is not granted; list it under `secrets` in the manifest and add \"secrets\" to its capabilities"
    )]
    Denied {
        /// The name asked for.
        name: String,
    },
    /// The manifest lists it but the operator configured no value.
    #[error(
        "secret `{name}` is not configured; set it in this plugin's `secrets` in the Silta configuration"
    )]
    NotFound {
        /// The name asked for.
        name: String,
    },
}

/// Either way the configuration must change before a retry can help.
impl From<SecretError> for PluginError {
    fn from(error: SecretError) -> Self {
        PluginError::Permanent(error.to_string())
    }
}

/// The hash function of an HMAC ([`Secret::hmac`], [`Secret::verify_hmac`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-1: only for providers that still sign with it (Twilio's
    /// `X-Twilio-Signature`).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

#[cfg(target_arch = "wasm32")]
impl From<HashAlgorithm> for crate::bindings::base::silta::connector::secrets::HashAlgorithm {
    fn from(algorithm: HashAlgorithm) -> Self {
        match algorithm {
            HashAlgorithm::Sha1 => Self::Sha1,
            HashAlgorithm::Sha256 => Self::Sha256,
            HashAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

/// An open secret.
#[derive(Debug)]
pub struct Secret {
    name: String,
    #[cfg(target_arch = "wasm32")]
    handle: crate::bindings::base::silta::connector::secrets::Secret,
}

// === impl Secret ===

impl Secret {
    /// Opens the secret the manifest names `name`.
    pub fn open(name: &str) -> Result<Self, SecretError> {
        #[cfg(target_arch = "wasm32")]
        {
            use crate::bindings::base::silta::connector::secrets as host;
            match host::open(name) {
                Ok(handle) => Ok(Self {
                    name: name.to_owned(),
                    handle,
                }),
                Err(host::SecretError::Denied) => Err(SecretError::Denied {
                    name: name.to_owned(),
                }),
                Err(host::SecretError::NotFound) => Err(SecretError::NotFound {
                    name: name.to_owned(),
                }),
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Err(SecretError::Denied {
                name: name.to_owned(),
            })
        }
    }

    /// The name it was opened by.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// HMAC-SHA256 of `data` keyed with the secret (32 bytes).
    #[must_use]
    pub fn hmac_sha256(&self, data: &[u8]) -> Vec<u8> {
        #[cfg(target_arch = "wasm32")]
        {
            self.handle.hmac_sha256(data)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = data;
            unreachable!("no secret can be opened in a native build")
        }
    }

    /// Whether `signature` is the HMAC-SHA256 of `data` under the secret;
    /// compared in constant time by the host.
    #[must_use]
    pub fn verify_hmac_sha256(&self, data: &[u8], signature: &[u8]) -> bool {
        #[cfg(target_arch = "wasm32")]
        {
            self.handle.verify_hmac_sha256(data, signature)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (data, signature);
            unreachable!("no secret can be opened in a native build")
        }
    }

    /// HMAC of `data` with `algorithm`, keyed with the secret (since
    /// `silta:connector@0.2.1`).
    #[must_use]
    pub fn hmac(&self, algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
        #[cfg(target_arch = "wasm32")]
        {
            self.handle.hmac(algorithm.into(), data)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (algorithm, data);
            unreachable!("no secret can be opened in a native build")
        }
    }

    /// Whether `signature` is the HMAC of `data` with `algorithm` under the
    /// secret; compared in constant time by the host (since
    /// `silta:connector@0.2.1`).
    #[must_use]
    pub fn verify_hmac(&self, algorithm: HashAlgorithm, data: &[u8], signature: &[u8]) -> bool {
        #[cfg(target_arch = "wasm32")]
        {
            self.handle.verify_hmac(algorithm.into(), data, signature)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (algorithm, data, signature);
            unreachable!("no secret can be opened in a native build")
        }
    }

    /// A whole `authorization` header value for HTTP Basic credentials with
    /// `user` and the secret as the password: the host fills in
    /// `Basic base64(user:secret)` as the request leaves, only towards an
    /// allowed host (since `silta:connector@0.2.1`). For APIs that take an
    /// account id and a token this way (Twilio).
    #[must_use]
    pub fn basic_auth_placeholder(&self, user: &str) -> String {
        #[cfg(target_arch = "wasm32")]
        {
            self.handle.basic_auth_placeholder(user)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = user;
            unreachable!("no secret can be opened in a native build")
        }
    }

    /// Text to put into an outbound header value where the secret belongs
    /// (`Authorization: Bearer <placeholder>`), or into the path or query of
    /// the request's URL (`/bot<placeholder>/sendMessage`). The host fills it
    /// in as the request leaves (percent-encoded in a URL), only towards an
    /// allowed host, never in the URL's host.
    #[must_use]
    pub fn header_placeholder(&self) -> String {
        #[cfg(target_arch = "wasm32")]
        {
            self.handle.header_placeholder()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            unreachable!("no secret can be opened in a native build")
        }
    }
}

/// Opens the secret the manifest names `name`; see [`Secret::open`].
pub fn open(name: &str) -> Result<Secret, SecretError> {
    Secret::open(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_builds_are_denied() {
        let error = open("signing-key").unwrap_err();
        assert_eq!(
            error,
            SecretError::Denied {
                name: "signing-key".into()
            }
        );
        assert_eq!(PluginError::from(error).kind(), "permanent");
    }
}
