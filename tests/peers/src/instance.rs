//! What the two servers of one instance share: the temp dir, its id, the ports,
//! the certificate and the Maildir root.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::accounts::system_user;
use crate::ports::Ports;
use crate::tls::{self, Certs};

/// One instance's shared facts; owns the temp dir (removed on drop).
pub(crate) struct Instance {
    /// Unique among concurrently running instances: Dovecot `instance_name`, Postfix
    /// `myhostname`, and the IMAP greeting all carry it.
    pub id: String,
    pub ports: Ports,
    pub certs: Certs,
    /// Uid and gid of the system user `vmail`, owner of every Maildir.
    pub vmail: (u32, u32),
    dir: TempDir,
}

impl Instance {
    /// Makes a fresh temp dir (readable by the servers' unprivileged users), a
    /// certificate and free ports.
    pub(crate) fn create() -> Result<Instance> {
        let vmail = system_user("vmail")?;
        let dir = tempfile::Builder::new()
            .prefix("silta-peers-")
            .tempdir()
            .context("creating the instance temp dir")?;
        // dovenull, dovecot, postfix and vmail must all reach their parts of it.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))?;
        let name = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let id = format!(
            "{}-{}",
            std::process::id(),
            name.unwrap_or_default()
                .trim_start_matches("silta-peers-")
                .to_lowercase()
        );
        let certs = tls::generate(&dir.path().join("tls"))?;
        let mail = dir.path().join("mail");
        fs::create_dir(&mail)?;
        chown(&mail, Some(vmail.0), Some(vmail.1)).context("chown of the Maildir root to vmail")?;
        Ok(Instance {
            id,
            ports: Ports::allocate()?,
            certs,
            vmail,
            dir,
        })
    }

    /// The instance's temp dir.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where `<user>/Maildir` of every user lives.
    pub(crate) fn mail_root(&self) -> PathBuf {
        self.root().join("mail")
    }

    /// Dovecot's SASL socket that Postfix's smtpd authenticates against.
    pub(crate) fn sasl_socket(&self) -> PathBuf {
        self.root().join("dovecot/run/auth-postfix")
    }
}

/// Fills every `@NAME@` of `template`; fails if one is left (a typo in either side).
pub(crate) fn render(template: &str, values: &[(&str, String)]) -> Result<String> {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("@{name}@"), value);
    }
    if let Some(left) = text
        .lines()
        .find(|l| !l.starts_with('#') && l.matches('@').count() >= 2)
    {
        bail!("template placeholder left unfilled in line {left:?}");
    }
    Ok(text)
}

/// A path as config text.
pub(crate) fn p(path: &Path) -> String {
    path.display().to_string()
}
