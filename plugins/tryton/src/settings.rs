//! The operator's configuration, read once per call into [`Settings`].
//!
//! Every problem is a `permanent` error that names the key and says how to
//! fix it: a retry cannot help until the operator changes the grant.

use silta_sdk::model::{Region, parse_region};
use silta_sdk::types::PluginError;

/// Config key: Tryton's base URL, `http://127.0.0.1:8000` (required).
pub const URL: &str = "url";
/// Config key: the Tryton database name (required).
pub const DATABASE: &str = "database";
/// Config key: the Tryton login the credentials belong to (default `admin`);
/// only named in messages, the login itself travels inside the secret.
pub const USER: &str = "user";
/// Config key: how many recent sale orders to attach (default 5, `0` for
/// none, at most [`MAX_ORDERS_LIMIT`]).
pub const MAX_ORDERS: &str = "max_orders";
/// Config key: the region (`FI`) in which phone numbers that Tryton holds
/// in national form (`040 123 4567`) are read; without it they are skipped.
pub const DEFAULT_PHONE_REGION: &str = "default_phone_region";
/// Config key: base URL of the Tryton web client for record links
/// (default: `url`).
pub const WEB_URL: &str = "web_url";

/// The default for [`MAX_ORDERS`].
pub const DEFAULT_MAX_ORDERS: u32 = 5;
/// The largest [`MAX_ORDERS`] accepted: a background is a glance, not a report.
pub const MAX_ORDERS_LIMIT: u32 = 50;

/// The settings of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Base URL without a trailing `/`.
    pub url: String,
    /// Database name.
    pub database: String,
    /// The login the credentials belong to.
    pub user: String,
    /// Sale orders to attach.
    pub max_orders: u32,
    /// Region for national phone numbers.
    pub phone_region: Option<Region>,
    /// Base URL of record links, without a trailing `/`.
    pub web_url: String,
}

// === impl Settings ===

impl Settings {
    /// Reads the settings through `get` (the host's `config::get` in the
    /// component, a map in tests).
    pub fn from_config(get: impl Fn(&str) -> Option<String>) -> Result<Self, PluginError> {
        let value = |key: &str| {
            get(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let url = base_url(
            URL,
            &value(URL).ok_or_else(|| silta_sdk::config::missing(URL))?,
        )?;
        let database = value(DATABASE).ok_or_else(|| silta_sdk::config::missing(DATABASE))?;
        if !database
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            return Err(invalid(
                DATABASE,
                &database,
                "use the database name only (letters, digits, `_`, `-`, `.`)",
            ));
        }
        let max_orders = match value(MAX_ORDERS) {
            None => DEFAULT_MAX_ORDERS,
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|n| *n <= MAX_ORDERS_LIMIT)
                .ok_or_else(|| {
                    invalid(
                        MAX_ORDERS,
                        &raw,
                        &format!("give a whole number from 0 to {MAX_ORDERS_LIMIT}"),
                    )
                })?,
        };
        let phone_region = value(DEFAULT_PHONE_REGION)
            .map(|raw| {
                parse_region(DEFAULT_PHONE_REGION, &raw).map_err(|_| {
                    invalid(
                        DEFAULT_PHONE_REGION,
                        &raw,
                        "give an ISO 3166-1 region code such as `FI`",
                    )
                })
            })
            .transpose()?;
        let web_url = match value(WEB_URL) {
            Some(raw) => base_url(WEB_URL, &raw)?,
            None => url.clone(),
        };
        Ok(Self {
            url,
            database,
            user: value(USER).unwrap_or_else(|| "admin".to_owned()),
            max_orders,
            phone_region,
            web_url,
        })
    }

    /// The JSON-RPC endpoint: `<url>/<database>/rpc/`.
    #[must_use]
    pub fn rpc_url(&self) -> String {
        format!("{}/{}/rpc/", self.url, self.database)
    }

    /// Where the web client opens record `id` of `model`:
    /// `<web_url>/#<database>/model/<model>/<id>`.
    #[must_use]
    pub fn record_url(&self, model: &str, id: u64) -> String {
        format!("{}/#{}/model/{model}/{id}", self.web_url, self.database)
    }
}

/// An `http(s)` URL without query or fragment, its trailing `/` removed.
fn base_url(key: &str, raw: &str) -> Result<String, PluginError> {
    const EXAMPLE: &str = "(e.g. `http://127.0.0.1:8000`)";
    if silta_sdk::validate::http_url(key, raw).is_err() {
        return Err(invalid(
            key,
            raw,
            &format!("give an absolute http(s) URL {EXAMPLE}"),
        ));
    }
    if raw.contains(['?', '#']) {
        return Err(invalid(
            key,
            raw,
            &format!("give the server's address without query or fragment {EXAMPLE}"),
        ));
    }
    let authority = raw.split("://").nth(1).unwrap_or_default();
    if authority
        .split('/')
        .next()
        .unwrap_or_default()
        .contains('@')
    {
        return Err(invalid(
            key,
            "<hidden>",
            "the URL must not hold credentials; they belong in the secret `credentials`",
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn invalid(key: &str, value: &str, fix: &str) -> PluginError {
    PluginError::permanent(format!("config `{key}` = {value:?} is not usable: {fix}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, PluginError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_config(|key| map.get(key).cloned())
    }

    #[test]
    fn defaults_and_derived_urls() {
        let s = settings(&[("url", "http://127.0.0.1:8000/"), ("database", "erp")]).unwrap();
        assert_eq!(s.rpc_url(), "http://127.0.0.1:8000/erp/rpc/");
        assert_eq!(s.user, "admin");
        assert_eq!(s.max_orders, DEFAULT_MAX_ORDERS);
        assert_eq!(s.phone_region, None);
        assert_eq!(
            s.record_url("party.party", 7),
            "http://127.0.0.1:8000/#erp/model/party.party/7"
        );
        let s = settings(&[
            ("url", "http://127.0.0.1:8000"),
            ("database", "erp"),
            ("web_url", "https://erp.example.com/sao/"),
            ("max_orders", "0"),
            ("default_phone_region", "fi"),
            ("user", "silta"),
        ])
        .unwrap();
        assert_eq!(
            s.record_url("sale.sale", 3),
            "https://erp.example.com/sao/#erp/model/sale.sale/3"
        );
        assert_eq!(s.max_orders, 0);
        assert_eq!(s.phone_region, Some(Region::FI));
        assert_eq!(s.user, "silta");
    }

    #[test]
    fn problems_name_the_key_and_the_fix() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("database", "erp")], "`url`"),
            (&[("url", "http://x.test")], "`database`"),
            (&[("url", "x.test"), ("database", "erp")], "`url`"),
            (
                &[("url", "http://x.test?a=1"), ("database", "erp")],
                "query",
            ),
            (
                &[("url", "http://a:b@x.test"), ("database", "erp")],
                "secret",
            ),
            (
                &[("url", "http://x.test"), ("database", "a/b")],
                "`database`",
            ),
            (
                &[
                    ("url", "http://x.test"),
                    ("database", "erp"),
                    ("max_orders", "99"),
                ],
                "0 to 50",
            ),
            (
                &[
                    ("url", "http://x.test"),
                    ("database", "erp"),
                    ("max_orders", "-1"),
                ],
                "`max_orders`",
            ),
            (
                &[
                    ("url", "http://x.test"),
                    ("database", "erp"),
                    ("default_phone_region", "Finland"),
                ],
                "ISO 3166-1",
            ),
        ];
        for (pairs, needle) in cases {
            let error = settings(pairs).unwrap_err();
            assert_eq!(error.kind(), "permanent", "{pairs:?}");
            assert!(error.message().contains(needle), "{pairs:?}: {error:?}");
        }
    }
}
