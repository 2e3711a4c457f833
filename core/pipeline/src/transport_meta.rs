//! How a raw event arrived, as the journal keeps it.

use serde_json::{Value, json};
use silta_runtime::contract::TransportMeta;

/// Headers never written to the journal: credentials for Silta itself.
const UNJOURNALED_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// The journal's JSON form of `meta`. Silta's own credentials are left out;
/// the provider's signature headers are kept, because replaying the event
/// through its plugin verifies them again.
#[must_use]
pub fn to_json(meta: &TransportMeta) -> Value {
    match meta {
        TransportMeta::Http {
            method,
            path,
            query,
            headers,
        } => json!({"http": {
            "method": method,
            "path": path,
            "query": query,
            "headers": headers
                .iter()
                .filter(|(name, _)| !UNJOURNALED_HEADERS.contains(&name.as_str()))
                .map(|(n, v)| [n.as_str(), v.as_str()])
                .collect::<Vec<_>>(),
        }}),
        TransportMeta::Imap {
            mailbox,
            uid_validity,
            uid,
            flags,
        } => json!({"imap": {
            "mailbox": mailbox, "uid_validity": uid_validity, "uid": uid, "flags": flags,
        }}),
        TransportMeta::Other(pairs) => json!({
            "other": pairs.iter().map(|(n, v)| [n.as_str(), v.as_str()]).collect::<Vec<_>>()
        }),
    }
}

fn pairs(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|pair| {
                    let pair = pair.as_array()?;
                    Some((
                        pair.first()?.as_str()?.to_owned(),
                        pair.get(1)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `meta` back from the journal; anything unreadable becomes `Other`.
#[must_use]
pub fn from_json(value: &Value) -> TransportMeta {
    if let Some(http) = value.get("http") {
        return TransportMeta::Http {
            method: text(http, "method"),
            path: text(http, "path"),
            query: http.get("query").and_then(Value::as_str).map(str::to_owned),
            headers: pairs(http.get("headers")),
        };
    }
    if let Some(imap) = value.get("imap") {
        let number = |key: &str| {
            imap.get(key)
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0)
        };
        return TransportMeta::Imap {
            mailbox: text(imap, "mailbox"),
            uid_validity: number("uid_validity"),
            uid: number("uid"),
            flags: imap
                .get("flags")
                .and_then(Value::as_array)
                .map(|f| {
                    f.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        };
    }
    TransportMeta::Other(pairs(value.get("other")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_round_trips_without_silta_credentials() {
        let meta = TransportMeta::Http {
            method: "POST".into(),
            path: "/v1/ingest/shop".into(),
            query: Some("a=1".into()),
            headers: vec![
                ("x-silta-signature".into(), "sha256=ab".into()),
                ("authorization".into(), "Bearer secret".into()),
            ],
        };
        let back = from_json(&to_json(&meta));
        assert_eq!(
            back,
            TransportMeta::Http {
                method: "POST".into(),
                path: "/v1/ingest/shop".into(),
                query: Some("a=1".into()),
                headers: vec![("x-silta-signature".into(), "sha256=ab".into())],
            }
        );
    }

    #[test]
    fn imap_round_trips() {
        let meta = TransportMeta::Imap {
            mailbox: "INBOX".into(),
            uid_validity: 7,
            uid: 42,
            flags: vec!["\\Seen".into()],
        };
        assert_eq!(from_json(&to_json(&meta)), meta);
    }
}
