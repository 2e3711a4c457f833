//! Outbound host patterns: `scheme://host[:port]`.
//!
//! A pattern names a scheme (`http` or `https`), a host (an exact name, an IP
//! literal, `*.example.com` for any subdomain, or `*` for any host) and a
//! port (a number, `*`, or omitted for the scheme's default). Paths are not
//! allowed: the unit of trust is the origin.
//!
//! `*` alone is for manifests of plugins whose server lives wherever the
//! customer runs it (a CRM, an ERP): the manifest says "any host", and the
//! operator's grant, which may not use it, names the one origin.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The host part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com`: any subdomain of `example.com` (not the apex).
    Subdomains(String),
    /// `*`: any host (manifests only; see the module docs).
    Any,
}

/// The port part of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Exact(u16),
    Any,
}

/// One allowed origin pattern, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AllowedHost {
    scheme: String,
    host: HostPattern,
    port: PortPattern,
    text: String,
}

impl AllowedHost {
    /// Parse a pattern; errors say how to fix it.
    pub fn parse(pattern: &str) -> Result<Self> {
        let fail = |reason: &str| Error::AllowedHost {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        let Some((scheme, rest)) = pattern.split_once("://") else {
            return Err(fail("does not contain a scheme (e.g. 'https://')"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(fail("scheme must be 'http' or 'https'")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(fail(
                "must be an origin only: no path, query or credentials (e.g. 'https://api.example.com')",
            ));
        }
        let (host, port) = split_host_port(rest).map_err(|r| fail(&r))?;
        let host = host.to_ascii_lowercase();
        if host.is_empty() {
            return Err(fail("has no host"));
        }
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(base) = host.strip_prefix("*.") {
            if base.is_empty() || base.contains('*') {
                return Err(fail("wildcards are only allowed as a leading '*.' label"));
            }
            HostPattern::Subdomains(base.to_string())
        } else if host.contains('*') {
            return Err(fail(
                "wildcards are only allowed as a leading '*.' label (e.g. 'https://*.example.com') or as the whole host",
            ));
        } else {
            HostPattern::Exact(host)
        };
        let port = match port {
            None => PortPattern::Exact(default_port),
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(
                p.parse()
                    .map_err(|_| fail("port must be a number from 1 to 65535 or '*'"))?,
            ),
        };
        Ok(Self {
            scheme,
            host,
            port,
            text: pattern.to_string(),
        })
    }

    /// Whether the host is `*` (any host).
    pub fn is_any_host(&self) -> bool {
        self.host == HostPattern::Any
    }

    /// Does a request to `scheme://host:port` match this pattern?
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if !self.scheme.eq_ignore_ascii_case(scheme) {
            return false;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let host_ok = match &self.host {
            HostPattern::Exact(h) => h.trim_start_matches('[').trim_end_matches(']') == host,
            HostPattern::Subdomains(base) => host
                .strip_suffix(base.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
            HostPattern::Any => !host.is_empty(),
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
        };
        host_ok && port_ok
    }

    /// Is this pattern at least as narrow as `other` (every origin it
    /// matches, `other` matches too)? Used to intersect what a manifest
    /// requests with what the operator grants.
    pub fn is_within(&self, other: &AllowedHost) -> bool {
        if self.scheme != other.scheme {
            return false;
        }
        let port_ok = match (self.port, other.port) {
            (_, PortPattern::Any) => true,
            (PortPattern::Exact(a), PortPattern::Exact(b)) => a == b,
            (PortPattern::Any, PortPattern::Exact(_)) => false,
        };
        let host_ok = match (&self.host, &other.host) {
            (_, HostPattern::Any) => true,
            (HostPattern::Any, _) => false,
            (HostPattern::Exact(a), HostPattern::Exact(b)) => a == b,
            (HostPattern::Exact(a), HostPattern::Subdomains(base)) => a
                .strip_suffix(base.as_str())
                .is_some_and(|p| p.len() > 1 && p.ends_with('.')),
            (HostPattern::Subdomains(a), HostPattern::Subdomains(b)) => {
                a == b || a.ends_with(&format!(".{b}"))
            }
            (HostPattern::Subdomains(_), HostPattern::Exact(_)) => false,
        };
        port_ok && host_ok
    }
}

fn split_host_port(rest: &str) -> std::result::Result<(&str, Option<&str>), String> {
    if let Some(inner) = rest.strip_prefix('[') {
        // [v6]:port
        let Some((v6, after)) = inner.split_once(']') else {
            return Err("unclosed '[' in IPv6 host".into());
        };
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| "expected ':' after ']'".to_string())?,
            ),
        };
        return Ok((v6, port));
    }
    Ok(match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    })
}

impl TryFrom<String> for AllowedHost {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<AllowedHost> for String {
    fn from(h: AllowedHost) -> String {
        h.text
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> AllowedHost {
        AllowedHost::parse(s).expect(s)
    }

    #[test]
    fn rejects_patterns_with_a_reason() {
        let err = AllowedHost::parse("api.example.com")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not contain a scheme"), "{err}");
        assert!(AllowedHost::parse("ftp://x.com").is_err());
        assert!(AllowedHost::parse("https://x.com/path").is_err());
        assert!(AllowedHost::parse("https://a*.x.com").is_err());
        assert!(AllowedHost::parse("https://x.com:99999").is_err());
        assert!(AllowedHost::parse("https://user@x.com").is_err());
    }

    #[test]
    fn matches_exact_default_port() {
        let h = p("https://api.example.com");
        assert!(h.matches("https", "api.example.com", 443));
        assert!(h.matches("https", "API.Example.com", 443));
        assert!(!h.matches("https", "api.example.com", 8443));
        assert!(!h.matches("http", "api.example.com", 443));
        assert!(!h.matches("https", "evil-api.example.com", 443));
        assert!(!h.matches("https", "api.example.com.evil.test", 443));
    }

    #[test]
    fn matches_wildcards_and_any_port() {
        let h = p("http://*.example.com:*");
        assert!(h.matches("http", "a.example.com", 1));
        assert!(h.matches("http", "a.b.example.com", 8080));
        assert!(!h.matches("http", "example.com", 80));
        assert!(!h.matches("http", "badexample.com", 80));
        let local = p("http://127.0.0.1:*");
        assert!(local.matches("http", "127.0.0.1", 4000));
        assert!(!local.matches("http", "127.0.0.2", 4000));
        let v6 = p("http://[::1]:8080");
        assert!(v6.matches("http", "[::1]", 8080));
    }

    #[test]
    fn narrowing() {
        assert!(p("https://a.example.com").is_within(&p("https://*.example.com")));
        assert!(!p("https://*.example.com").is_within(&p("https://a.example.com")));
        assert!(p("http://h:1").is_within(&p("http://h:*")));
        assert!(!p("http://h:*").is_within(&p("http://h:1")));
        assert!(!p("http://h").is_within(&p("https://h")));
        assert!(p("https://erp.example.com").is_within(&p("https://*:*")));
        assert!(p("https://*.example.com").is_within(&p("https://*")));
        assert!(!p("https://*").is_within(&p("https://*.example.com")));
        assert!(!p("http://erp.example.com").is_within(&p("https://*:*")));
    }

    #[test]
    fn any_host_keeps_scheme_and_port() {
        let any = p("https://*");
        assert!(any.is_any_host());
        assert!(any.matches("https", "erp.customer.test", 443));
        assert!(!any.matches("https", "erp.customer.test", 8443));
        assert!(!any.matches("http", "erp.customer.test", 443));
        assert!(p("http://*:*").matches("http", "10.0.0.5", 8000));
        assert!(!p("https://*.example.com").is_any_host());
    }
}
