//! The operator's configuration, parsed once per call into [`Settings`].
//!
//! Keys (the `config` table of this plugin's grant):
//!
//! | key | required | meaning |
//! |-----|----------|---------|
//! | `url` | yes | BottleCRM's root, where `/api/` lives (`http://127.0.0.1:18001`) |
//! | `create_contacts` | no | `true`: a lookup that finds nobody creates the contact (default `false`) |
//! | `contact_link` | no | where a person opens a contact, `{id}` standing for its id (default: its API URL) |
//! | `case_link` | no | the same for a case |

use silta_sdk::{PluginError, config};

/// Config key: BottleCRM's root URL.
pub const URL_KEY: &str = "url";
/// Config key: create unknown customers as contacts on lookup.
pub const CREATE_CONTACTS_KEY: &str = "create_contacts";
/// Config key: template of a contact's URL for people, with `{id}`.
pub const CONTACT_LINK_KEY: &str = "contact_link";
/// Config key: template of a case's URL for people, with `{id}`.
pub const CASE_LINK_KEY: &str = "case_link";

/// What the operator configured, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `<url>/api`, without a trailing slash.
    pub api: String,
    /// Whether a lookup that finds nobody creates the contact.
    pub create_contacts: bool,
    contact_link: Option<String>,
    case_link: Option<String>,
}

// === impl Settings ===

impl Settings {
    /// Reads the host's configuration (needs the `config` capability).
    pub fn from_host() -> Result<Settings, PluginError> {
        Self::parse(config::get)
    }

    /// Parses settings from `get(key)`; errors are `permanent` and say which
    /// key to fix and how.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Settings, PluginError> {
        let url = get(URL_KEY)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| config::missing(URL_KEY))?;
        let root = root_url(URL_KEY, url.trim())?;
        let create_contacts = match get(CREATE_CONTACTS_KEY).as_deref().map(str::trim) {
            None | Some("") => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(other) => {
                return Err(PluginError::permanent(format!(
                    "config key `{CREATE_CONTACTS_KEY}` is `{other}`; set it to `true` or `false`"
                )));
            }
        };
        Ok(Settings {
            api: format!("{root}/api"),
            create_contacts,
            contact_link: link_template(CONTACT_LINK_KEY, get(CONTACT_LINK_KEY))?,
            case_link: link_template(CASE_LINK_KEY, get(CASE_LINK_KEY))?,
        })
    }

    /// Where a person opens contact `id`.
    pub fn contact_url(&self, id: u64) -> String {
        match &self.contact_link {
            Some(template) => template.replace("{id}", &id.to_string()),
            None => format!("{}/contacts/{id}/", self.api),
        }
    }

    /// Where a person opens case `id`.
    pub fn case_url(&self, id: u64) -> String {
        match &self.case_link {
            Some(template) => template.replace("{id}", &id.to_string()),
            None => format!("{}/cases/{id}/", self.api),
        }
    }
}

/// An `http`/`https` URL without query or fragment, trailing slashes removed.
fn root_url(key: &str, url: &str) -> Result<String, PluginError> {
    let fail = |why: &str| {
        PluginError::permanent(format!(
            "config key `{key}` is `{url}`: {why}; set it to BottleCRM's root URL, where /api/ \
             lives (e.g. `http://127.0.0.1:18001`)"
        ))
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| fail("it does not start with http:// or https://"))?;
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return Err(fail("it has a query, a fragment or spaces"));
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return Err(fail("it has no host, or credentials in it"));
    }
    let root = url.trim_end_matches('/');
    Ok(root.strip_suffix("/api").unwrap_or(root).to_owned())
}

fn link_template(key: &str, value: Option<String>) -> Result<Option<String>, PluginError> {
    let Some(template) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let web = template.starts_with("http://") || template.starts_with("https://");
    if !web || !template.contains("{id}") {
        return Err(PluginError::permanent(format!(
            "config key `{key}` is `{template}`; give an http(s) URL with `{{id}}` where the \
             record's id goes (e.g. `https://crm.example.com/app/contacts/{{id}}`)"
        )));
    }
    Ok(Some(template))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, PluginError> {
        Settings::parse(|key| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_url_is_required_and_normalized() {
        let missing = parse(&[]).unwrap_err();
        assert!(missing.message().contains("`url`"), "{missing:?}");
        for url in [
            "http://127.0.0.1:18001",
            "http://127.0.0.1:18001/",
            "http://127.0.0.1:18001/api/",
        ] {
            let settings = parse(&[("url", url)]).unwrap();
            assert_eq!(settings.api, "http://127.0.0.1:18001/api");
            assert!(!settings.create_contacts);
        }
        let prefixed = parse(&[("url", "https://crm.example.com/crm")]).unwrap();
        assert_eq!(prefixed.api, "https://crm.example.com/crm/api");
        assert_eq!(
            prefixed.contact_url(7),
            "https://crm.example.com/crm/api/contacts/7/"
        );
        assert_eq!(
            prefixed.case_url(3),
            "https://crm.example.com/crm/api/cases/3/"
        );
    }

    #[test]
    fn bad_values_say_how_to_fix_them() {
        for (key, value) in [
            ("url", "crm.example.com"),
            ("url", "ftp://crm.example.com"),
            ("url", "https://crm.example.com/?a=1"),
            ("url", "https://user:pw@crm.example.com"),
            ("url", "https:///api"),
        ] {
            let error = parse(&[(key, value)]).unwrap_err();
            assert_eq!(error.kind(), "permanent");
            assert!(error.message().contains("root URL"), "{error:?}");
        }
        let error = parse(&[("url", "http://h"), ("create_contacts", "yes")]).unwrap_err();
        assert!(error.message().contains("`true` or `false`"), "{error:?}");
        let error =
            parse(&[("url", "http://h"), ("contact_link", "https://x/contacts")]).unwrap_err();
        assert!(error.message().contains("{id}"), "{error:?}");
    }

    #[test]
    fn switches_and_link_templates() {
        let settings = parse(&[
            ("url", "http://h:1"),
            ("create_contacts", "TRUE"),
            ("contact_link", "https://crm.example.com/app/contacts/{id}"),
            ("case_link", "https://crm.example.com/app/cases/{id}/view"),
        ])
        .unwrap();
        assert!(settings.create_contacts);
        assert_eq!(
            settings.contact_url(5),
            "https://crm.example.com/app/contacts/5"
        );
        assert_eq!(
            settings.case_url(9),
            "https://crm.example.com/app/cases/9/view"
        );
    }
}
