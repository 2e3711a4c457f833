//! How many bytes a plugin returned, for the output cap.
//!
//! Counted over the lifted values (strings, byte lists, and a small fixed
//! cost per record), before anything is converted or stored. The memory cap
//! bounds what a plugin can hand over in the first place; the output cap
//! bounds what the pipeline accepts from one call.

use crate::bindings::wit;

/// Approximate size in bytes of a value a plugin returned.
pub trait OutputSize {
    /// The size.
    fn output_size(&self) -> usize;
}

const RECORD: usize = 16;

impl OutputSize for () {
    fn output_size(&self) -> usize {
        0
    }
}

impl OutputSize for std::time::Duration {
    fn output_size(&self) -> usize {
        0
    }
}

impl OutputSize for String {
    fn output_size(&self) -> usize {
        self.len()
    }
}

impl OutputSize for u8 {
    fn output_size(&self) -> usize {
        1
    }
}

impl<T: OutputSize> OutputSize for Vec<T> {
    fn output_size(&self) -> usize {
        self.iter().map(OutputSize::output_size).sum::<usize>() + RECORD
    }
}

impl<T: OutputSize> OutputSize for Option<T> {
    fn output_size(&self) -> usize {
        self.as_ref().map_or(0, OutputSize::output_size)
    }
}

impl<A: OutputSize, B: OutputSize> OutputSize for (A, B) {
    fn output_size(&self) -> usize {
        self.0.output_size() + self.1.output_size()
    }
}

impl<T: OutputSize, E: OutputSize> OutputSize for Result<T, E> {
    fn output_size(&self) -> usize {
        match self {
            Ok(v) => v.output_size(),
            Err(e) => e.output_size(),
        }
    }
}

macro_rules! fixed {
    ($($t:ty),*) => { $(impl OutputSize for $t { fn output_size(&self) -> usize { RECORD } })* };
}
fixed!(
    wit::Timestamp,
    wit::Direction,
    wit::InteractionKind,
    wit::SenderRole,
    wit::Assurance,
    wit::DeliveryState
);

macro_rules! fields {
    ($t:ty => $($f:ident),*) => {
        impl OutputSize for $t {
            fn output_size(&self) -> usize { RECORD $(+ self.$f.output_size())* }
        }
    };
}

fields!(wit::RetryableError => message);
fields!(wit::Identity => kind, value, scope, assurance, display_name);
fields!(wit::Attachment => filename, media_type, content_hash, url, content, content_id);
fields!(wit::Location => name, address);
fields!(wit::InteractiveReply => id, title);
fields!(wit::Template => name, language, parameters);
fields!(wit::Reaction => emoji, provider_message_id);
fields!(wit::EmailHeaders => message_id, in_reply_to, references, subject, auto_submitted, reply_to);
fields!(wit::Interaction => kind, direction, sender_role, sender, recipients, provider_message_id, occurred_at, subject, parts, thread_keys, email, attributes);
fields!(wit::DeliveryUpdate => provider_message_id, state, provider_code, detail, occurred_at);
fields!(wit::HttpRequest => method, url, headers, body);
fields!(wit::EmailRequest => envelope_from, envelope_to, message_id, raw);
fields!(wit::DeliveryOutcome => state, provider_message_id, provider_code, detail);
fields!(wit::BackofficeLink => system, object_type, remote_id, url, snapshot);
fields!(wit::Background => display_name, identities, links, attributes);
fields!(wit::PluginInfo => id, version, name, description, identity_kinds);

impl OutputSize for wit::PluginError {
    fn output_size(&self) -> usize {
        RECORD
            + match self {
                wit::PluginError::Retryable(r) => r.output_size(),
                wit::PluginError::Permanent(s)
                | wit::PluginError::BadInput(s)
                | wit::PluginError::Unauthorized(s) => s.len(),
            }
    }
}

impl OutputSize for wit::IdentityKind {
    fn output_size(&self) -> usize {
        RECORD
            + match self {
                wit::IdentityKind::Custom(s) => s.len(),
                _ => 0,
            }
    }
}

impl OutputSize for wit::IdentityScope {
    fn output_size(&self) -> usize {
        RECORD
            + match self {
                wit::IdentityScope::Global => 0,
                wit::IdentityScope::ChannelAccount(s) | wit::IdentityScope::App(s) => s.len(),
            }
    }
}

impl OutputSize for wit::ThreadKey {
    fn output_size(&self) -> usize {
        RECORD
            + match self {
                wit::ThreadKey::MessageId(s)
                | wit::ThreadKey::InReplyTo(s)
                | wit::ThreadKey::References(s)
                | wit::ThreadKey::ReplyToken(s)
                | wit::ThreadKey::ProviderThread(s)
                | wit::ThreadKey::ReplyToProviderMessage(s) => s.len(),
            }
    }
}

impl OutputSize for wit::Part {
    fn output_size(&self) -> usize {
        RECORD
            + match self {
                wit::Part::Text(s) | wit::Part::Html(s) | wit::Part::Quoted(s) => s.len(),
                wit::Part::Attachment(a) => a.output_size(),
                wit::Part::Location(l) => l.output_size(),
                wit::Part::Interactive(i) => i.output_size(),
                wit::Part::Template(t) => t.output_size(),
                wit::Part::Reaction(r) => r.output_size(),
            }
    }
}

impl OutputSize for wit::Normalized {
    fn output_size(&self) -> usize {
        match self {
            wit::Normalized::Interaction(i) => i.output_size(),
            wit::Normalized::DeliveryUpdate(d) => d.output_size(),
        }
    }
}

impl OutputSize for wit::TransportRequest {
    fn output_size(&self) -> usize {
        match self {
            wit::TransportRequest::Http(h) => h.output_size(),
            wit::TransportRequest::Email(e) => e.output_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_text_and_bytes() {
        let part = wit::Part::Text("x".repeat(1000));
        assert!(part.output_size() >= 1000);
        let v: Vec<u8> = vec![0; 5000];
        assert!(v.output_size() >= 5000);
        let r: Result<Vec<wit::Normalized>, wit::PluginError> =
            Err(wit::PluginError::Permanent("abc".into()));
        assert!(r.output_size() >= 3);
    }
}
