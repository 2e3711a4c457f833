//! IMAP in against real Dovecot: exactly-once delivery in UID order,
//! acknowledgement only after the sink accepted, restarts, IDLE and polling,
//! moves, sink failures, server restarts and UIDVALIDITY changes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use silta_email::{AfterIngest, Checkpoint, ImapAccount, Security};
use silta_test_peers::MailServers;

use crate::support::{
    ImapProbe, MemorySink, Source, WAIT, assert_no_duplicates, imap_account,
    imap_proxy_without_move, message, uids,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_messages_once_in_uid_order_seen_and_not_again_after_restart() -> anyhow::Result<()>
{
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    let sent: Vec<Vec<u8>> = (1..=30).map(|i| message(&format!("message {i}"))).collect();
    for raw in &sent {
        probe.append("INBOX", raw)?;
    }

    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(imap_account(&mail, "alice"), Arc::clone(&sink));
    let delivered = sink.wait_for(30).await?;
    assert_eq!(uids(&delivered), (1..=30).collect::<Vec<u32>>());
    for (raw, got) in sent.iter().zip(&delivered) {
        assert_eq!(&got.raw, raw, "bytes of UID {}", got.uid);
        assert_eq!(got.account, "alice-mail");
        assert_eq!(got.mailbox, "INBOX");
        assert!(!got.flags.iter().any(|f| f == "\\Seen"), "{:?}", got.flags);
    }
    probe.wait_all_seen("INBOX", 30)?;

    // Shutdown is prompt, even while idling.
    let took = source.stop().await;
    assert!(took < Duration::from_secs(2), "shutdown took {took:?}");

    // A new source with the same sink delivers nothing twice, then new mail.
    let source = Source::spawn(imap_account(&mail, "alice"), Arc::clone(&sink));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.delivered().len(), 30, "redelivered after restart");
    probe.append("INBOX", &message("after restart"))?;
    let delivered = sink.wait_for(31).await?;
    assert_eq!(delivered[30].uid, 31);
    assert_eq!(delivered[30].raw, message("after restart"));
    probe.wait_all_seen("INBOX", 31)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    source.stop().await;
    assert_eq!(sink.delivered().len(), 31);
    assert_no_duplicates(&sink.delivered());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_accepted_but_never_acknowledged_is_acknowledged_on_the_next_connection()
-> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut alice = ImapProbe::login(&mail, "alice")?;
    let mut bob = ImapProbe::login(&mail, "bob")?;
    bob.create("Ingested")?;
    for i in 1..=6 {
        alice.append("INBOX", &message(&format!("seen {i}")))?;
        bob.append("INBOX", &message(&format!("moved {i}")))?;
    }
    // As if an earlier Silta journaled UIDs 1-4 and died before the
    // server heard about the last batch (UIDs 3 and 4).
    let sink = Arc::new(MemorySink::default());
    for (probe, account) in [(&mut alice, "alice-mail"), (&mut bob, "bob-mail")] {
        let (uid_validity, _) = probe.state("INBOX")?;
        sink.set_checkpoint(
            account,
            "INBOX",
            Checkpoint {
                uid_validity,
                last_uid: 4,
            },
        );
    }
    let seen = Source::spawn(
        ImapAccount {
            batch_size: 2,
            ..imap_account(&mail, "alice")
        },
        Arc::clone(&sink),
    );
    let moved = Source::spawn(
        ImapAccount {
            batch_size: 2,
            after_ingest: AfterIngest::MoveTo("Ingested".to_owned()),
            ..imap_account(&mail, "bob")
        },
        Arc::clone(&sink),
    );
    let delivered = sink.wait_for(4).await?;
    let mut got: Vec<(String, u32)> = delivered
        .iter()
        .map(|m| (m.account.clone(), m.uid))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("alice-mail".to_owned(), 5),
            ("alice-mail".to_owned(), 6),
            ("bob-mail".to_owned(), 5),
            ("bob-mail".to_owned(), 6)
        ],
        "nothing at or below the checkpoint is delivered again"
    );
    let start = Instant::now();
    loop {
        let (_, alice_inbox) = alice.state("INBOX")?;
        let (_, bob_inbox) = bob.state("INBOX")?;
        let (_, bob_ingested) = bob.state("Ingested")?;
        // The last batch is flagged; older unseen mail (someone marked it
        // unread) is left alone. Every accepted message is moved.
        let expected_seen = vec![
            (1, false),
            (2, false),
            (3, true),
            (4, true),
            (5, true),
            (6, true),
        ];
        if alice_inbox == expected_seen && bob_inbox.is_empty() && bob_ingested.len() == 6 {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "alice INBOX {alice_inbox:?}; bob INBOX {bob_inbox:?}, Ingested {bob_ingested:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen.stop().await;
    moved.stop().await;
    assert_eq!(sink.delivered().len(), 4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_picks_up_new_mail_quickly() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(imap_account(&mail, "alice"), Arc::clone(&sink));
    // Let it select and enter IDLE on the empty INBOX.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    for i in 1..=3 {
        let appended = Instant::now();
        probe.append("INBOX", &message(&format!("pushed {i}")))?;
        sink.wait_for(i).await?;
        // Polling is off (IDLE is used), so only a push explains this.
        assert!(
            appended.elapsed() < Duration::from_secs(3),
            "{:?}",
            appended.elapsed()
        );
    }
    source.stop().await;
    assert_eq!(uids(&sink.delivered()), vec![1, 2, 3]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_over_starttls_picks_up_new_mail() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "bob")?;
    for i in 1..=3 {
        probe.append("INBOX", &message(&format!("first {i}")))?;
    }
    let account = ImapAccount {
        port: mail.imap_port(),
        security: Security::StartTls,
        idle: false,
        poll_interval: Duration::from_millis(300),
        ..imap_account(&mail, "bob")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account, Arc::clone(&sink));
    sink.wait_for(3).await?;
    for i in 1..=2 {
        probe.append("INBOX", &message(&format!("later {i}")))?;
    }
    sink.wait_for(5).await?;
    probe.wait_all_seen("INBOX", 5)?;
    source.stop().await;
    assert_eq!(uids(&sink.delivered()), vec![1, 2, 3, 4, 5]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_to_moves_ingested_mail() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    probe.create("Ingested")?;
    for i in 1..=5 {
        probe.append("INBOX", &message(&format!("to move {i}")))?;
    }
    let account = ImapAccount {
        after_ingest: AfterIngest::MoveTo("Ingested".to_owned()),
        batch_size: 2,
        ..imap_account(&mail, "alice")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account, Arc::clone(&sink));
    sink.wait_for(5).await?;

    let start = Instant::now();
    loop {
        let (_, inbox) = probe.state("INBOX")?;
        let (_, moved) = probe.state("Ingested")?;
        if inbox.is_empty() && moved.len() == 5 {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "INBOX {inbox:?}, Ingested {moved:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // New mail after the moves still arrives (UIDs keep growing).
    probe.append("INBOX", &message("after the move"))?;
    sink.wait_for(6).await?;
    source.stop().await;
    assert_eq!(uids(&sink.delivered()), vec![1, 2, 3, 4, 5, 6]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_falls_back_to_copy_and_expunge_without_the_move_extension() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    probe.create("Ingested")?;
    for i in 1..=3 {
        probe.append("INBOX", &message(&format!("to copy {i}")))?;
    }
    let account = ImapAccount {
        host: "127.0.0.1".to_owned(),
        port: imap_proxy_without_move(mail.imap_port())?,
        security: Security::Plain,
        after_ingest: AfterIngest::MoveTo("Ingested".to_owned()),
        ..imap_account(&mail, "alice")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account, Arc::clone(&sink));
    sink.wait_for(3).await?;
    let start = Instant::now();
    loop {
        let (_, inbox) = probe.state("INBOX")?;
        let (_, moved) = probe.state("Ingested")?;
        if inbox.is_empty() && moved.len() == 3 {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "INBOX {inbox:?}, Ingested {moved:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    source.stop().await;
    assert_eq!(uids(&sink.delivered()), vec![1, 2, 3]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_sink_is_retried_and_nothing_is_acknowledged_before() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    for i in 1..=3 {
        probe.append("INBOX", &message(&format!("retry {i}")))?;
    }
    let sink = Arc::new(MemorySink::default());
    sink.refuse.store(true, Ordering::SeqCst);
    let source = Source::spawn(imap_account(&mail, "alice"), Arc::clone(&sink));

    // Refused at least twice: the first message is retried, not skipped.
    let start = Instant::now();
    while sink.refusals.load(Ordering::SeqCst) < 2 {
        assert!(start.elapsed() < WAIT, "no retry after a refusal");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sink.delivered().is_empty());
    let (_, state) = probe.state("INBOX")?;
    assert_eq!(
        state,
        vec![(1, false), (2, false), (3, false)],
        "acknowledged early"
    );

    sink.refuse.store(false, Ordering::SeqCst);
    let delivered = sink.wait_for(3).await?;
    assert_eq!(uids(&delivered), vec![1, 2, 3]);
    probe.wait_all_seen("INBOX", 3)?;
    source.stop().await;
    assert_eq!(sink.delivered().len(), 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_the_server_restarts_and_gets_mail_from_meanwhile() -> anyhow::Result<()> {
    let mut mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    probe.append("INBOX", &message("before the restart"))?;
    let account = ImapAccount {
        port: mail.imap_port(),
        security: Security::Plain,
        ..imap_account(&mail, "alice")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account, Arc::clone(&sink));
    sink.wait_for(1).await?;
    drop(probe);

    mail.stop_imap()?;
    // Postfix keeps delivering into the Maildir while Dovecot is down.
    let sender = silta_email::SmtpSender::new(&silta_email::SmtpAccount {
        port: mail.smtp_port(),
        username: None,
        password: None,
        ..crate::support::submission_account(&mail, "support")
    })?;
    let reply = sender
        .send(
            "customer@customer.test",
            &["alice@example.test".to_owned()],
            &message("while down"),
        )
        .await;
    assert_eq!(reply.code, 250, "{reply:?}");
    mail.wait_for_message("alice", "while-down", WAIT)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    mail.start_imap()?;

    let delivered = sink.wait_for(2).await?;
    assert!(delivered[1].raw.ends_with(&message("while down")));
    source.stop().await;
    assert_eq!(uids(&sink.delivered()), vec![1, 2]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uidvalidity_change_starts_the_mailbox_over() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    probe.create("Work")?;
    probe.append("Work", &message("old 1"))?;
    probe.append("Work", &message("old 2"))?;
    let account = ImapAccount {
        mailboxes: vec!["Work".to_owned()],
        ..imap_account(&mail, "alice")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account.clone(), Arc::clone(&sink));
    let first = sink.wait_for(2).await?;
    source.stop().await;

    // Recreate the mailbox (a new UIDVALIDITY; Dovecot derives it from the
    // clock, so wait a second) with one old and one new message.
    probe.delete("Work")?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    probe.create("Work")?;
    probe.append("Work", &message("old 1"))?;
    probe.append("Work", &message("new 3"))?;
    let (validity, _) = probe.state("Work")?;
    assert_ne!(validity, first[0].uid_validity);

    let source = Source::spawn(account, Arc::clone(&sink));
    let delivered = sink.wait_for(4).await?;
    source.stop().await;
    let again: Vec<(u32, u32)> = delivered[2..]
        .iter()
        .map(|m| (m.uid_validity, m.uid))
        .collect();
    assert_eq!(again, vec![(validity, 1), (validity, 2)]);
    assert_eq!(delivered[3].raw, message("new 3"));
    assert_eq!(sink.delivered().len(), 4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worker_per_mailbox() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "carol")?;
    probe.create("Sales")?;
    probe.append("INBOX", &message("inbox one"))?;
    probe.append("Sales", &message("sales one"))?;
    let account = ImapAccount {
        mailboxes: vec!["INBOX".to_owned(), "Sales".to_owned()],
        ..imap_account(&mail, "carol")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account, Arc::clone(&sink));
    let delivered = sink.wait_for(2).await?;
    source.stop().await;
    let mut mailboxes: Vec<&str> = delivered.iter().map(|m| m.mailbox.as_str()).collect();
    mailboxes.sort_unstable();
    assert_eq!(mailboxes, vec!["INBOX", "Sales"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_recreated_while_connected_is_read_again() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut probe = ImapProbe::login(&mail, "alice")?;
    probe.create("Work")?;
    probe.append("Work", &message("old 1"))?;
    let account = ImapAccount {
        mailboxes: vec!["Work".to_owned()],
        ..imap_account(&mail, "alice")
    };
    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(account, Arc::clone(&sink));
    let first = sink.wait_for(1).await?;

    // The worker is idling on Work while it is deleted and recreated.
    probe.delete("Work")?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    probe.create("Work")?;
    probe.append("Work", &message("new 1"))?;
    let (validity, _) = probe.state("Work")?;
    assert_ne!(validity, first[0].uid_validity);

    let delivered = sink.wait_for(2).await?;
    source.stop().await;
    assert_eq!((delivered[1].uid_validity, delivered[1].uid), (validity, 1));
    assert_eq!(delivered[1].raw, message("new 1"));
    assert_eq!(sink.delivered().len(), 2);
    Ok(())
}
