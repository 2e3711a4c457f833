//! Delivery status notifications (RFC 3464): a `multipart/report;
//! report-type=delivery-status` message about a message we sent.
//!
//! A DSN never becomes a customer message. Each recipient whose `Action` is
//! `failed` becomes a `bounced` delivery update about the original message,
//! with the recipient's `Status` (`5.1.1`) as the provider code and the
//! recipient and diagnostic as the detail; `delivered` becomes a
//! `delivered` update. `delayed`, `relayed` and `expanded` say nothing
//! final, so they give no update: the message stays `sent` and the host
//! keeps the raw DSN in its journal.
//!
//! The original message is found, in order, by the `Message-ID` of an
//! attached `message/rfc822` or `text/rfc822-headers` part, then by the
//! DSN's `Original-Envelope-Id` (the host's transport sets the envelope id
//! to the Message-ID).

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use silta_sdk::types::{DeliveryState, DeliveryUpdate, Timestamp};

use crate::ids;

/// Most bytes of a DSN's diagnostic kept as a delivery update's detail.
const MAX_DETAIL_BYTES: usize = 512;

/// What a DSN says, once read.
#[derive(Debug, Default)]
pub struct Report {
    /// The Message-ID of the message the report is about.
    pub original_message_id: Option<String>,
    /// One entry per recipient block.
    pub recipients: Vec<RecipientStatus>,
}

/// One per-recipient block of a DSN.
#[derive(Debug, Default)]
pub struct RecipientStatus {
    /// `Final-Recipient` (or `Original-Recipient`), address only.
    pub recipient: Option<String>,
    /// `Action`, lower case: `failed`, `delayed`, `delivered`, ...
    pub action: String,
    /// `Status`, e.g. `5.1.1`.
    pub status: Option<String>,
    /// `Diagnostic-Code`, without its type (`smtp;`).
    pub diagnostic: Option<String>,
}

/// Whether the message is a DSN.
pub fn is_dsn(message: &Message<'_>) -> bool {
    message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    })
}

/// Reads the report parts of a DSN.
pub fn read(message: &Message<'_>) -> Report {
    let mut report = Report::default();
    let mut envelope_id = None;
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let kind = ct.ctype().to_ascii_lowercase();
        let subtype = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        match (kind.as_str(), subtype.as_str()) {
            ("message", "delivery-status") | ("message", "global-delivery-status") => {
                let (per_message, recipients) = status_fields(part.contents());
                envelope_id = field(&per_message, "original-envelope-id")
                    .and_then(|id| ids::clean_message_id(&id));
                report.recipients.extend(recipients.iter().map(|block| {
                    RecipientStatus {
                        recipient: field(block, "final-recipient")
                            .or_else(|| field(block, "original-recipient"))
                            .map(|r| without_type(&r)),
                        action: field(block, "action")
                            .unwrap_or_default()
                            .to_ascii_lowercase(),
                        status: field(block, "status")
                            .map(|s| s.split_whitespace().next().unwrap_or_default().to_owned())
                            .filter(|s| !s.is_empty()),
                        diagnostic: field(block, "diagnostic-code").map(|d| without_type(&d)),
                    }
                }));
            }
            ("message", "rfc822") | ("message", "global")
                if report.original_message_id.is_none() =>
            {
                report.original_message_id = match &part.body {
                    PartType::Message(inner) => inner.message_id(),
                    _ => None,
                }
                .and_then(ids::clean_message_id);
            }
            ("text", "rfc822-headers") | ("message", "global-headers")
                if report.original_message_id.is_none() =>
            {
                report.original_message_id = MessageParser::default()
                    .parse_headers(part.contents())
                    .and_then(|headers| headers.message_id().and_then(ids::clean_message_id));
            }
            _ => {}
        }
    }
    if report.original_message_id.is_none() {
        report.original_message_id = envelope_id;
    }
    report
}

/// The delivery updates a report gives (see the module docs).
pub fn updates(report: &Report, occurred_at: Timestamp) -> Vec<DeliveryUpdate> {
    let Some(original) = report.original_message_id.as_deref() else {
        return Vec::new();
    };
    report
        .recipients
        .iter()
        .filter_map(|recipient| {
            let state = match recipient.action.as_str() {
                "failed" => DeliveryState::Bounced,
                "delivered" => DeliveryState::Delivered,
                _ => return None,
            };
            let mut update = DeliveryUpdate::new(original, state, occurred_at);
            if let Some(status) = &recipient.status {
                update = update.with_provider_code(status.clone());
            }
            let detail = match (&recipient.recipient, &recipient.diagnostic) {
                (Some(to), Some(why)) => Some(format!("{to}: {why}")),
                (Some(to), None) => Some(to.clone()),
                (None, Some(why)) => Some(why.clone()),
                (None, None) => None,
            };
            if let Some(detail) = detail {
                update = update.with_detail(cut(&detail, MAX_DETAIL_BYTES));
            }
            Some(update)
        })
        .collect()
}

type Fields = Vec<(String, String)>;

/// The per-message block and the per-recipient blocks of a
/// `message/delivery-status` body: header-style fields, blocks separated by
/// blank lines, continuation lines folded.
fn status_fields(body: &[u8]) -> (Fields, Vec<Fields>) {
    let text = String::from_utf8_lossy(body);
    let mut blocks: Vec<Fields> = Vec::new();
    let mut current: Fields = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            current.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    // The first block is per message unless it already names a recipient
    // (some MTAs leave the per-message block out).
    let first_is_recipient = blocks.first().is_some_and(|b| {
        b.iter()
            .any(|(n, _)| n == "final-recipient" || n == "action")
    });
    if first_is_recipient {
        return (Vec::new(), blocks);
    }
    let mut blocks = blocks.into_iter();
    let per_message = blocks.next().unwrap_or_default();
    (per_message, blocks.collect())
}

fn field(block: &Fields, name: &str) -> Option<String> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `rfc822; aino@example.fi` → `aino@example.fi`.
fn without_type(value: &str) -> String {
    match value.split_once(';') {
        Some((_, rest)) => rest.trim().to_owned(),
        None => value.trim().to_owned(),
    }
}

/// At most `max` bytes of `text`, cut on a character boundary.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_blocks_are_read() {
        let body = b"Reporting-MTA: dns; mx.example.test\nOriginal-Envelope-Id: abc@example.test\n\nFinal-Recipient: rfc822; nobody@example.fi\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n  (continued)\n";
        let (per_message, recipients) = status_fields(body);
        assert_eq!(
            field(&per_message, "original-envelope-id").as_deref(),
            Some("abc@example.test")
        );
        assert_eq!(recipients.len(), 1);
        assert_eq!(
            field(&recipients[0], "diagnostic-code").as_deref(),
            Some("smtp; 550 5.1.1 User unknown (continued)")
        );
    }

    #[test]
    fn cut_respects_characters() {
        assert_eq!(cut("ääkkönen", 3), "ä");
        assert_eq!(cut("abc", 10), "abc");
    }
}
