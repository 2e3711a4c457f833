//! `X-Twilio-Signature`: Twilio's HMAC-SHA1 over the URL it called and
//! the POST parameters, keyed with the account's auth token
//! (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>).
//!
//! What Twilio signs: the full URL it requested (scheme, host, path and
//! query string, exactly as configured on the number or given as
//! `StatusCallback`), then for every POST parameter sorted by name
//! (case-sensitive byte order) its name and its decoded value, all
//! concatenated; the header is the base64 of the 20-byte MAC.
//!
//! Silta sits behind a public URL the plugin cannot see, so the operator
//! configures it as `public_url` (`https://silta.example.com`) and the
//! plugin rebuilds the URL as `public_url` + the request's path +
//! `?query`. The auth token never enters the plugin: it is secret
//! `auth-token`, and the host computes and compares the MAC in constant
//! time. Building the signed data and reading the header are pure and
//! tested natively; [`verify`] needs the host.
//!
//! A parameter given more than once (Twilio's messaging webhooks send none)
//! is signed as Twilio's own validators do: values sorted, duplicates once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use silta_sdk::PluginError;
use silta_sdk::config;
use silta_sdk::secrets::{HashAlgorithm, Secret};
use silta_sdk::types::{InboundEvent, TransportMeta};

use crate::payload::Params;

/// The header Twilio signs every webhook with.
pub const HEADER: &str = "x-twilio-signature";

/// The secret (by its manifest name) the signature is keyed with: the
/// account's Auth Token (also the REST API password).
pub const SECRET: &str = "auth-token";

/// Config key: the public origin (and any path prefix) Twilio calls Silta
/// at, without the `/v1/ingest/…` path.
pub const PUBLIC_URL_KEY: &str = "public_url";

/// Length of an HMAC-SHA1.
const MAC_BYTES: usize = 20;

/// Refuses the event unless its signature matches the URL and parameters.
///
/// A missing, malformed or wrong signature is `unauthorized`; a missing
/// `public_url` or auth token is `permanent` (configuration must change).
pub fn verify(event: &InboundEvent) -> Result<(), PluginError> {
    let mac = parse_header(event.header(HEADER))?;
    let public_url = config::require(PUBLIC_URL_KEY).map_err(|_| {
        PluginError::permanent(format!(
            "config key `{PUBLIC_URL_KEY}` is not set: give the public URL Twilio calls Silta at (e.g. https://silta.example.com), which the signature covers"
        ))
    })?;
    let url = called_url(&public_url, event)?;
    let data = signed_data(&url, &Params::lenient(&event.body));
    let secret = Secret::open(SECRET)?;
    if secret.verify_hmac(HashAlgorithm::Sha1, &data, &mac) {
        Ok(())
    } else {
        Err(PluginError::unauthorized(format!(
            "`{HEADER}` does not match: it must be the base64 HMAC-SHA1, keyed with the auth token (secret `{SECRET}`), of {url:?} followed by the sorted POST parameters; check `{PUBLIC_URL_KEY}` against the webhook URL configured at Twilio"
        )))
    }
}

/// The URL Twilio called: `public_url` (without a trailing `/`) + the
/// request path + `?query` when there is one.
pub fn called_url(public_url: &str, event: &InboundEvent) -> Result<String, PluginError> {
    let TransportMeta::Http(http) = &event.transport else {
        return Err(PluginError::bad_input(
            "Twilio posts webhooks over HTTP, but this event came from a mailbox",
        ));
    };
    let mut url = public_url.trim().trim_end_matches('/').to_owned();
    url.push_str(&http.path);
    if let Some(query) = http.query.as_deref().filter(|query| !query.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// What Twilio signs: `url`, then every parameter's name and value,
/// sorted by name, then value, each distinct pair once.
#[must_use]
pub fn signed_data(url: &str, params: &Params) -> Vec<u8> {
    let mut pairs: Vec<&(String, String)> = params.pairs().iter().collect();
    pairs.sort();
    pairs.dedup();
    let mut data = url.as_bytes().to_vec();
    for (name, value) in pairs {
        data.extend_from_slice(name.as_bytes());
        data.extend_from_slice(value.as_bytes());
    }
    data
}

/// The MAC bytes of a header value; `unauthorized` with the reason when
/// absent or malformed.
pub fn parse_header(value: Option<&str>) -> Result<Vec<u8>, PluginError> {
    let value = value.map(str::trim).ok_or_else(|| {
        PluginError::unauthorized(format!(
            "`{HEADER}` header is missing; Twilio signs every webhook with the base64 HMAC-SHA1 of the URL and parameters"
        ))
    })?;
    match STANDARD.decode(value) {
        Ok(mac) if mac.len() == MAC_BYTES => Ok(mac),
        _ => Err(PluginError::unauthorized(format!(
            "`{HEADER}` must be the base64 of a 20-byte HMAC-SHA1 (28 characters)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use silta_sdk::types::{HttpMeta, Timestamp};

    fn event(path: &str, query: Option<&str>) -> InboundEvent {
        InboundEvent {
            channel_account: "acct".into(),
            received_at: Timestamp {
                seconds: 0,
                nanoseconds: 0,
            },
            transport: TransportMeta::Http(HttpMeta {
                method: "POST".into(),
                path: path.into(),
                query: query.map(str::to_owned),
                headers: Vec::new(),
            }),
            body: Vec::new(),
        }
    }

    #[test]
    fn the_url_is_the_public_url_with_path_and_query() {
        assert_eq!(
            called_url("https://silta.example.com/", &event("/v1/ingest/sms", None)).expect("http"),
            "https://silta.example.com/v1/ingest/sms"
        );
        assert_eq!(
            called_url(
                " https://silta.example.com ",
                &event("/v1/ingest/sms", Some("a=1&b=2"))
            )
            .expect("http"),
            "https://silta.example.com/v1/ingest/sms?a=1&b=2"
        );
        assert_eq!(
            called_url("https://x.test", &event("/p", Some(""))).expect("http"),
            "https://x.test/p"
        );
    }

    /// Twilio's documented example (twilio-php's validation guide)
    /// (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>):
    /// the data is the URL and the parameters sorted by name.
    #[test]
    fn signed_data_sorts_by_name_case_sensitively() {
        let params = Params::lenient(
            b"Digits=1234&To=%2B18005551212&From=%2B14158675309&Caller=%2B14158675309&CallSid=CA1234567890ABCDE",
        );
        let data = signed_data("https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert_eq!(
            String::from_utf8(data.clone()).expect("UTF-8"),
            "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212"
        );
        // The signature Twilio's page gives for auth token 12345.
        let mut mac =
            <hmac::Hmac<sha1::Sha1> as hmac::Mac>::new_from_slice(b"12345").expect("any key size");
        hmac::Mac::update(&mut mac, &data);
        assert_eq!(
            STANDARD.encode(hmac::Mac::finalize(mac).into_bytes()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        // Upper case sorts before lower case; values are decoded.
        let params = Params::lenient(b"b=2&B=%C3%A4+x&a=1&a=0&a=1");
        assert_eq!(
            String::from_utf8(signed_data("u", &params)).expect("UTF-8"),
            "uBä xa0a1b2"
        );
    }

    #[test]
    fn reads_the_mac() {
        let header = STANDARD.encode([7u8; 20]);
        assert_eq!(parse_header(Some(&header)).expect("valid"), vec![7u8; 20]);
        assert_eq!(
            parse_header(Some(&format!(" {header} "))).expect("trimmed"),
            vec![7u8; 20]
        );
    }

    #[test]
    fn bad_headers_are_unauthorized_with_a_reason() {
        let short = STANDARD.encode([7u8; 32]);
        let mut tampered = STANDARD.encode([7u8; 20]);
        tampered.pop();
        tampered.push('0');
        for (value, reason) in [
            (None, "is missing"),
            (Some("not base64!"), "20-byte"),
            (Some(short.as_str()), "20-byte"),
            (Some(tampered.as_str()), "20-byte"),
            (Some(""), "20-byte"),
        ] {
            let error = parse_header(value).unwrap_err();
            assert_eq!(error.kind(), "unauthorized");
            assert!(error.message().contains(reason), "{value:?}: {error:?}");
        }
    }
}
