//! SMTP out through real Postfix: what each outcome maps to, and that what
//! was sent arrives over IMAP byte for byte.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use silta_email::{Security, SmtpAccount, SmtpSender};
use silta_test_peers::MailServers;

use crate::support::{MemorySink, Source, ca_pem, imap_account, message, submission_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_and_smtps_sends_arrive_once_with_the_same_bytes() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let to = vec!["alice@customer.test".to_owned()];

    let submission = SmtpSender::new(&submission_account(&mail, "support"))?;
    let first = message("via submission");
    let reply = submission.send("support@example.test", &to, &first).await;
    assert_eq!(reply.code, 250, "{reply:?}");
    assert!(reply.is_success());

    let smtps = SmtpSender::new(&SmtpAccount {
        port: mail.smtps_port(),
        security: Security::Tls,
        ..submission_account(&mail, "support")
    })?;
    let second = message("via smtps");
    let reply = smtps.send("<support@example.test>", &to, &second).await;
    assert_eq!(reply.code, 250, "{reply:?}");

    let sink = Arc::new(MemorySink::default());
    let source = Source::spawn(imap_account(&mail, "alice"), Arc::clone(&sink));
    let delivered = sink.wait_for(2).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    source.stop().await;

    let delivered_now = sink.delivered();
    assert_eq!(delivered_now.len(), 2, "delivered more than once");
    for (sent, got) in [&first, &second].into_iter().zip(&delivered) {
        // Postfix prepends trace headers; the message itself is unchanged.
        assert!(
            got.raw.ends_with(sent),
            "raw bytes differ:\n{}",
            String::from_utf8_lossy(&got.raw)
        );
        assert!(String::from_utf8_lossy(&got.raw).contains("Received: "));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_map_to_the_servers_5xx_codes() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let raw = message("rejected");

    // MX port, no AUTH: unknown local user, and a domain we do not serve.
    let mx = SmtpSender::new(&SmtpAccount {
        port: mail.smtp_port(),
        username: None,
        password: None,
        ..submission_account(&mail, "support")
    })?;
    let unknown = mx
        .send(
            "support@example.test",
            &["nobody@example.test".to_owned()],
            &raw,
        )
        .await;
    assert_eq!(unknown.code, 550, "{unknown:?}");
    assert!(unknown.text.contains("nobody@example.test"), "{unknown:?}");

    let relay = mx
        .send(
            "support@example.test",
            &["someone@elsewhere.example".to_owned()],
            &raw,
        )
        .await;
    assert_eq!(relay.code, 554, "{relay:?}");
    assert!(relay.text.to_lowercase().contains("relay"), "{relay:?}");

    // Wrong password on submission.
    let bad_auth = SmtpSender::new(&SmtpAccount {
        password: Some("wrong".to_owned()),
        ..submission_account(&mail, "support")
    })?;
    let reply = bad_auth
        .send(
            "support@example.test",
            &["alice@example.test".to_owned()],
            &raw,
        )
        .await;
    assert_eq!(reply.code, 535, "{reply:?}");
    assert!(!reply.text.is_empty());

    // Addresses that are not addresses never reach the server.
    let sender = SmtpSender::new(&submission_account(&mail, "support"))?;
    let reply = sender
        .send("support@example.test", &["not an address".to_owned()], &raw)
        .await;
    assert_eq!(reply.code, 553, "{reply:?}");
    let reply = sender.send("support@example.test", &[], &raw).await;
    assert_eq!(reply.code, 501, "{reply:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_map_to_421() -> anyhow::Result<()> {
    // A port nobody listens on.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.local_addr()?.port()
    };
    let sender = SmtpSender::new(&SmtpAccount {
        host: "127.0.0.1".to_owned(),
        port,
        security: Security::StartTls,
        username: None,
        password: None,
        hello_name: None,
        pool_size: 1,
        timeout: Duration::from_secs(2),
        extra_root_pem: None,
    })?;
    let reply = sender
        .send(
            "a@example.test",
            &["b@example.test".to_owned()],
            &message("nowhere"),
        )
        .await;
    assert_eq!(reply.code, 421, "{reply:?}");
    assert!(reply.text.starts_with("connection failed: "), "{reply:?}");
    assert!(reply.is_transient());

    // A server whose certificate we do not trust is a connection failure too.
    let mail = MailServers::start()?;
    let untrusted = SmtpSender::new(&SmtpAccount {
        extra_root_pem: None,
        ..submission_account(&mail, "support")
    })?;
    let reply = untrusted
        .send(
            "support@example.test",
            &["alice@example.test".to_owned()],
            &message("tls"),
        )
        .await;
    assert_eq!(reply.code, 421, "{reply:?}");

    // And the CA we were given is used: the same account with it works.
    let trusted = SmtpSender::new(&SmtpAccount {
        extra_root_pem: Some(ca_pem(&mail)),
        ..submission_account(&mail, "support")
    })?;
    let reply = trusted
        .send(
            "support@example.test",
            &["alice@example.test".to_owned()],
            &message("tls"),
        )
        .await;
    assert_eq!(reply.code, 250, "{reply:?}");
    Ok(())
}

#[test]
fn invalid_root_pem_is_a_config_error() {
    let err = SmtpSender::new(&SmtpAccount {
        host: "localhost".to_owned(),
        port: 25,
        security: Security::Tls,
        username: None,
        password: None,
        hello_name: None,
        pool_size: 1,
        timeout: Duration::from_secs(1),
        extra_root_pem: Some(b"garbage".to_vec()),
    })
    .unwrap_err();
    assert!(err.to_string().contains("extra_root_pem"), "{err}");
}
