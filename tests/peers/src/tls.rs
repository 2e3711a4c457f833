//! The per-instance test CA and the server certificate both servers use.
//!
//! A CA plus a leaf rather than one self-signed certificate: rustls (webpki)
//! refuses a certificate marked as a CA when a server presents it, and OpenSSL
//! refuses to treat a leaf without `keyCertSign` as a trust anchor. With a
//! separate CA every client library accepts `ca.pem` as its only root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::process::run;

/// Paths of the generated files.
pub(crate) struct Certs {
    /// The CA certificate clients trust.
    pub ca: PathBuf,
    /// The server certificate (SAN localhost, 127.0.0.1).
    pub cert: PathBuf,
    /// The server's private key (root-only).
    pub key: PathBuf,
}

const LEAF_EXTENSIONS: &str = "\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
";

/// Creates a fresh P-256 CA and a server certificate signed by it in `dir`.
pub(crate) fn generate(dir: &Path) -> Result<Certs> {
    fs::create_dir_all(dir)?;
    let f = |name: &str| dir.join(name);
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "3650",
            "-subj",
            "/CN=Silta test CA",
        ])
        .args(ec)
        .arg("-keyout")
        .arg(f("ca.key"))
        .arg("-out")
        .arg(f("ca.pem")))?;
    run(Command::new("openssl")
        .args(["req", "-new", "-subj", "/CN=localhost"])
        .args(ec)
        .arg("-keyout")
        .arg(f("key.pem"))
        .arg("-out")
        .arg(f("server.csr")))?;
    fs::write(f("server.ext"), LEAF_EXTENSIONS)?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "3650", "-set_serial", "2"])
        .arg("-in")
        .arg(f("server.csr"))
        .arg("-CA")
        .arg(f("ca.pem"))
        .arg("-CAkey")
        .arg(f("ca.key"))
        .arg("-extfile")
        .arg(f("server.ext"))
        .arg("-out")
        .arg(f("cert.pem")))?;
    Ok(Certs {
        ca: f("ca.pem"),
        cert: f("cert.pem"),
        key: f("key.pem"),
    })
}
