//! One logged-in IMAP connection with one mailbox selected: the commands
//! the source needs, each mapped to [`EmailError`].

use std::sync::Arc;
use std::time::Duration;

use imap::extensions::idle::WaitOutcome;
use imap::types::UnsolicitedResponse;
use rustls::ClientConfig;

use crate::error::{EmailError, Result};
use crate::imap_source::ImapAccount;
use crate::imap_stream::ImapStream;
use crate::stop::Stop;

/// The query of every fetch: the whole message without setting `\Seen`.
const FETCH_QUERY: &str = "(UID FLAGS BODY.PEEK[])";

/// One message as fetched, before it is handed to the sink.
#[derive(Debug)]
pub(crate) struct RawMessage {
    pub(crate) uid: u32,
    pub(crate) flags: Vec<String>,
    pub(crate) raw: Vec<u8>,
}

/// A logged-in session with `mailbox` selected (read-write).
pub(crate) struct MailboxSession {
    session: imap::Session<ImapStream>,
    /// The selected mailbox's UIDVALIDITY.
    pub(crate) uid_validity: u32,
    /// Whether the server offers IDLE (RFC 2177).
    pub(crate) can_idle: bool,
    /// Whether the server offers MOVE (RFC 6851).
    pub(crate) can_move: bool,
}

// === impl MailboxSession ===

impl MailboxSession {
    /// Connects, logs in and selects `mailbox`. The socket is registered
    /// with `stop`, so a shutdown interrupts any blocking read.
    pub(crate) fn open(
        account: &ImapAccount,
        mailbox: &str,
        tls: &Arc<ClientConfig>,
        stop: &Stop,
    ) -> Result<Self> {
        let (stream, socket, greeting_read) =
            ImapStream::connect(&account.host, account.port, account.security, tls)?;
        stop.register(socket);
        let mut client = imap::Client::new(stream);
        if greeting_read {
            client.greeting_read = true;
        } else {
            client
                .read_greeting()
                .map_err(|e| EmailError::imap("greeting", e))?;
        }
        let mut session = client
            .login(&account.username, &account.password)
            .map_err(|(e, _)| EmailError::imap(format!("LOGIN {}", account.username), e))?;
        let caps = session
            .capabilities()
            .map_err(|e| EmailError::imap("CAPABILITY", e))?;
        let can_idle = caps.has_str("IDLE");
        let can_move = caps.has_str("MOVE");
        drop(caps);
        let selected = session
            .select(mailbox)
            .map_err(|e| EmailError::imap(format!("SELECT {mailbox}"), e))?;
        let uid_validity = selected
            .uid_validity
            .ok_or_else(|| EmailError::NoUidValidity {
                mailbox: mailbox.to_owned(),
            })?;
        Ok(Self {
            session,
            uid_validity,
            can_idle,
            can_move,
        })
    }

    /// The UIDs above `last_uid`, ascending.
    ///
    /// `UID SEARCH UID n:*` always matches the highest UID, even when it is
    /// below `n` (RFC 3501 §6.4.8: `*` is the largest UID in use), so the
    /// answer is filtered.
    pub(crate) fn uids_after(&mut self, last_uid: u32) -> Result<Vec<u32>> {
        let query = format!("UID {}:*", last_uid.saturating_add(1));
        let found = self
            .session
            .uid_search(&query)
            .map_err(|e| EmailError::imap(format!("UID SEARCH {query}"), e))?;
        let mut uids: Vec<u32> = found.into_iter().filter(|uid| *uid > last_uid).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The UIDs from 1 to `last_uid` still in the mailbox, ascending.
    pub(crate) fn uids_up_to(&mut self, last_uid: u32) -> Result<Vec<u32>> {
        if last_uid == 0 {
            return Ok(Vec::new());
        }
        let query = format!("UID 1:{last_uid}");
        let found = self
            .session
            .uid_search(&query)
            .map_err(|e| EmailError::imap(format!("UID SEARCH {query}"), e))?;
        let mut uids: Vec<u32> = found.into_iter().filter(|uid| *uid <= last_uid).collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// Fetches `uids` (whole message, flags), ascending by UID. UIDs
    /// expunged in the meantime are simply missing.
    pub(crate) fn fetch(&mut self, uids: &[u32]) -> Result<Vec<RawMessage>> {
        let set = uid_set(uids);
        let fetches = self
            .session
            .uid_fetch(&set, FETCH_QUERY)
            .map_err(|e| EmailError::imap(format!("UID FETCH {set}"), e))?;
        let mut messages: Vec<RawMessage> = fetches
            .iter()
            .filter_map(|fetch| {
                Some(RawMessage {
                    uid: fetch.uid?,
                    flags: fetch.flags().iter().map(ToString::to_string).collect(),
                    raw: fetch.body()?.to_vec(),
                })
            })
            .filter(|m| uids.binary_search(&m.uid).is_ok())
            .collect();
        messages.sort_unstable_by_key(|m| m.uid);
        messages.dedup_by_key(|m| m.uid);
        Ok(messages)
    }

    /// Sets `\Seen` on `uids`.
    pub(crate) fn mark_seen(&mut self, uids: &[u32]) -> Result<()> {
        let set = uid_set(uids);
        self.session
            .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
            .map_err(|e| EmailError::imap(format!("UID STORE {set}"), e))?;
        Ok(())
    }

    /// Moves `uids` to `folder`: `UID MOVE` when offered, else COPY, mark
    /// `\Deleted` and EXPUNGE (`UID EXPUNGE` would be narrower but needs
    /// UIDPLUS; a plain EXPUNGE also removes other `\Deleted` messages).
    pub(crate) fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<()> {
        let set = uid_set(uids);
        if self.can_move {
            return self
                .session
                .uid_mv(&set, folder)
                .map_err(|e| EmailError::imap(format!("UID MOVE {set} {folder}"), e));
        }
        self.session
            .uid_copy(&set, folder)
            .map_err(|e| EmailError::imap(format!("UID COPY {set} {folder}"), e))?;
        self.session
            .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
            .map_err(|e| EmailError::imap(format!("UID STORE {set}"), e))?;
        self.session
            .expunge()
            .map_err(|e| EmailError::imap("EXPUNGE", e))?;
        Ok(())
    }

    /// Whether the server already announced new messages (an untagged
    /// EXISTS or RECENT during earlier commands) that IDLE would not
    /// repeat. Drains the unsolicited responses.
    pub(crate) fn announced_new_mail(&mut self) -> bool {
        self.session.take_all_unsolicited().any(|r| is_new_mail(&r))
    }

    /// IDLEs until the server announces new mail or `timeout` passes.
    /// Returns whether new mail was announced.
    pub(crate) fn idle(&mut self, timeout: Duration) -> Result<bool> {
        let outcome = self
            .session
            .idle()
            .timeout(timeout)
            .keepalive(false)
            .wait_while(|r| !is_new_mail(&r))
            .map_err(|e| EmailError::imap("IDLE", e))?;
        Ok(outcome == WaitOutcome::MailboxChanged)
    }

    /// Checks the connection is alive (NOOP), so poll-mode errors surface.
    pub(crate) fn noop(&mut self) -> Result<()> {
        self.session.noop().map_err(|e| EmailError::imap("NOOP", e))
    }

    /// Logs out, ignoring errors (the connection is dropped either way).
    pub(crate) fn logout(mut self) {
        let _ = self.session.logout();
    }
}

fn is_new_mail(response: &UnsolicitedResponse) -> bool {
    matches!(
        response,
        UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
    )
}

/// `uids` (ascending) as an IMAP sequence set with runs collapsed:
/// `[1,2,3,7,9,10]` → `1:3,7,9:10`.
pub(crate) fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.saturating_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_collapse_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }
}
