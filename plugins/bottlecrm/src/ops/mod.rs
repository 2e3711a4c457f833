//! The three back-office operations as sequences of API calls, over any
//! [`Transport`]: [`lookup`], [`activity`] and [`ticket`].

pub mod activity;
pub mod lookup;
pub mod ticket;

use serde_json::Value;
use silta_sdk::PluginError;

use crate::mapping::reply;
use crate::transport::{Answer, Method, Transport};

/// `GET path` and its JSON body, or the error the answer means.
fn get(crm: &impl Transport, path: &str, what: &str) -> Result<Value, PluginError> {
    let answer = crm.send(Method::Get, path, None)?;
    reply::json(&answer, what)
}

/// Sends `body`; the raw answer, for callers that act on validation errors.
fn send(
    crm: &impl Transport,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<Answer, PluginError> {
    crm.send(method, path, Some(body))
}

/// Whether one of `messages` says a unique value is taken.
fn taken(messages: &[String]) -> bool {
    messages.iter().any(|m| m.contains("already exist"))
}
