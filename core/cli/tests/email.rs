//! The email channel end to end: a real `silta run` reading a Dovecot
//! mailbox over IMAP (STARTTLS) and sending through Postfix (submission,
//! STARTTLS + AUTH), with customers writing in over SMTP.

mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use lettre::AsyncTransport;
use mail_parser::MimeHeaders;
use serde_json::Value;
use silta_test_peers::MailServers;
use support::mail::{Mail, SUPPORT, email_config};
use support::{Config, Silta};

fn header<'a>(message: &'a mail_parser::Message<'a>, name: &'static str) -> Option<&'a str> {
    message.header_raw(name).map(str::trim)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_email_is_answered_and_every_kind_of_reply_threads() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut silta = Silta::new(&email_config(&mail));
    silta.start().await;

    // 1. A customer writes to support.
    Mail {
        from: "alice@customer.test",
        to: SUPPORT,
        message_id: "m1@customer.test",
        subject: "Tilaus 1234 ei ole saapunut",
        text: "Hei,\n\ntilaukseni 1234 ei ole vielä saapunut. Voitteko tarkistaa?\n\nAino",
        headers: &[],
    }
    .send(&mail)
    .await?;
    let first = silta.linked_interaction("m1@customer.test").await;
    let party = first["party_id"].as_str().expect("party").to_owned();
    let conversation = first["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    let timeline = silta
        .all_pages(&format!("/v1/parties/{party}/timeline"))
        .await;
    assert!(
        timeline
            .iter()
            .any(|i| i["provenance"]["provider_message_id"] == "m1@customer.test"),
        "the message is in the party's timeline"
    );

    // 2. Silta's reply reaches the customer with the threading headers.
    let reply_interaction = silta
        .reply(
            &conversation,
            "Hei Aino, tilauksesi lähti eilen; seurantakoodi on 123.",
        )
        .await;
    let raw = mail.wait_for_message("alice", "m1@customer.test", Duration::from_secs(60))?;
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("the reply parses");
    assert_eq!(parsed.subject(), Some("Re: Tilaus 1234 ei ole saapunut"));
    assert_eq!(
        header(&parsed, "In-Reply-To"),
        Some("<m1@customer.test>"),
        "{raw}"
    );
    assert!(
        header(&parsed, "References").is_some_and(|r| r.contains("<m1@customer.test>")),
        "{raw}"
    );
    let reply_id = parsed
        .message_id()
        .expect("the reply has a Message-ID")
        .to_owned();
    let reply_to = parsed
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .expect("the reply has a Reply-To")
        .to_owned();
    assert!(
        reply_to.starts_with("support+") && reply_to.ends_with("@example.test"),
        "the Reply-To carries the reply token: {reply_to}"
    );
    assert!(
        parsed
            .body_text(0)
            .is_some_and(|t| t.contains("seurantakoodi")),
        "{raw}"
    );

    // The reply's delivery history records the send.
    wait_delivery(&silta, &reply_interaction, "the send", |d| {
        d.iter().any(|e| e["state"] == "sent")
    })
    .await;

    // 3. Outlook: only References, a changed subject, the plain address.
    let references = format!("<m1@customer.test> <{reply_id}>");
    Mail {
        from: "alice@customer.test",
        to: SUPPORT,
        message_id: "m2@customer.test",
        subject: "VS: paketti",
        text: "Kiitos! Milloin se saapuu?",
        headers: &[("References", &references)],
    }
    .send(&mail)
    .await?;
    let outlook = silta.linked_interaction("m2@customer.test").await;
    assert_eq!(outlook["conversation_id"], conversation.as_str());

    // 4. A reply to the token address that quotes a message Silta never saw.
    Mail {
        from: "alice@customer.test",
        to: &reply_to,
        message_id: "m3@customer.test",
        subject: "Re: jotain muuta",
        text: "Vielä yksi kysymys.",
        headers: &[
            ("In-Reply-To", "<never-seen@elsewhere.test>"),
            ("References", "<never-seen@elsewhere.test>"),
        ],
    }
    .send(&mail)
    .await?;
    let token_reply = silta.linked_interaction("m3@customer.test").await;
    assert_eq!(token_reply["conversation_id"], conversation.as_str());

    // 5. Someone else with the same subject starts their own conversation.
    Mail {
        from: "bob@customer.test",
        to: SUPPORT,
        message_id: "b1@customer.test",
        subject: "Re: Tilaus 1234 ei ole saapunut",
        text: "Minullakin sama ongelma.",
        headers: &[],
    }
    .send(&mail)
    .await?;
    let other = silta.linked_interaction("b1@customer.test").await;
    assert_ne!(other["conversation_id"], conversation.as_str());
    assert_ne!(other["party_id"], party.as_str());

    let threading = outlook["threading_reason"].as_str().unwrap_or_default();
    assert!(
        threading.contains(&reply_id) || threading.contains("m1@customer.test"),
        "the reason names the key that matched: {threading}"
    );
    silta.terminate().await;
    Ok(())
}

/// A message sent through a web form: `From` the form, `Reply-To` the
/// customer, with a PDF larger than any inline limit.
fn form_message_with_pdf(pdf: &[u8]) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut encoded = String::new();
    let b64 = base64::engine::general_purpose::STANDARD.encode(pdf);
    for line in b64.as_bytes().chunks(76) {
        let _ = write!(encoded, "{}\r\n", String::from_utf8_lossy(line));
    }
    format!(
        "From: Verkkolomake <dave@customer.test>\r\nReply-To: Carol Asiakas <carol@customer.test>\r\n\
         To: {SUPPORT}\r\nSubject: Reklamaatio\r\nDate: Tue, 24 Nov 2026 09:00:00 +0200\r\n\
         Message-ID: <form-1@customer.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLiitteenä kuva viallisesta tuotteesta.\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"Reklamaatio 7.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"Reklamaatio 7.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}--b1--\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_kept_and_sent_and_replies_go_to_reply_to() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut silta = Silta::new(&email_config(&mail));
    silta.start().await;

    // 1. A form relays Carol's complaint with a 600 KB PDF.
    let pdf: Vec<u8> = (0..600_000u32)
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let envelope = lettre::address::Envelope::new(
        Some("dave@customer.test".parse()?),
        vec![SUPPORT.parse()?],
    )?;
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(mail.smtp_port())
        .build()
        .send_raw(&envelope, &form_message_with_pdf(&pdf))
        .await?;
    let stored = silta.linked_interaction("form-1@customer.test").await;
    let id = stored["id"].as_str().expect("id").to_owned();
    assert_eq!(
        stored["email"]["reply_to"],
        serde_json::json!([{"kind": "email", "scope": "global", "value": "carol@customer.test"}]),
        "{stored}"
    );

    // Its bytes are served with the type and name the sender gave.
    let parts = stored["parts"].as_array().expect("parts");
    let index = parts
        .iter()
        .position(|p| p.get("attachment").is_some())
        .expect("an attachment part");
    let hash = parts[index]["attachment"]["content_hash"]
        .as_str()
        .expect("a content hash")
        .to_owned();
    let content = silta
        .get_reply(&format!("/v1/interactions/{id}/parts/{index}/content"))
        .await;
    assert_eq!(content.status, 200, "{}", content.text());
    assert!(content.body == pdf, "the PDF comes back byte for byte");
    assert_eq!(content.headers["content-type"], "application/pdf");
    assert_eq!(
        content.headers["content-disposition"],
        "attachment; filename*=UTF-8''Reklamaatio%207.pdf"
    );
    assert_eq!(content.headers["x-content-type-options"], "nosniff");
    let by_hash = silta.get_reply(&format!("/v1/blobs/{hash}")).await;
    assert!(by_hash.status == 200 && by_hash.body == pdf);
    let text_part = silta
        .get_reply(&format!("/v1/interactions/{id}/parts/0/content"))
        .await;
    assert_eq!(text_part.status, 400, "{}", text_part.text());

    // 2. An agent uploads a receipt and replies with it.
    let receipt = "Kuitti: hyvitys 49,90 € maksettu.\n"
        .repeat(100)
        .into_bytes();
    let uploaded = silta
        .call(
            "POST",
            "/v1/blobs",
            "application/octet-stream",
            receipt.clone(),
        )
        .await;
    assert_eq!(uploaded.status, 201, "{}", uploaded.text());
    let receipt_hash = uploaded.json()["content_hash"]
        .as_str()
        .expect("hash")
        .to_owned();
    let again = silta
        .call(
            "POST",
            "/v1/blobs",
            "application/octet-stream",
            receipt.clone(),
        )
        .await;
    assert_eq!(again.status, 200, "the same bytes are stored once");
    assert_eq!(again.json()["content_hash"], receipt_hash.as_str());
    let empty = silta
        .call("POST", "/v1/blobs", "application/octet-stream", Vec::new())
        .await;
    assert_eq!(empty.status, 400, "{}", empty.text());

    let conversation = stored["conversation_id"].as_str().expect("conversation");
    let path = format!("/v1/conversations/{conversation}/messages");
    let unknown = silta
        .call(
            "POST",
            &path,
            "application/json",
            serde_json::json!({"parts": [{"text": "Liitteenä kuitti."}, {"attachment": {
                "media_type": "text/plain", "filename": "kuitti.txt", "size_bytes": null,
                "content_hash": format!("sha256:{}", "0".repeat(64)), "url": null,
                "content_id": null, "inline": false}}]})
            .to_string()
            .into_bytes(),
        )
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.text());
    assert!(
        unknown.text().contains("POST /v1/blobs"),
        "{}",
        unknown.text()
    );
    let queued = silta
        .call(
            "POST",
            &path,
            "application/json",
            serde_json::json!({"parts": [{"text": "Liitteenä kuitti hyvityksestä."}, {"attachment": {
                "media_type": "text/plain", "filename": "kuitti.txt",
                "content_hash": receipt_hash, "inline": false}}]})
            .to_string()
            .into_bytes(),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.text());

    // 3. The reply goes to the Reply-To address, not to the form, with the
    // receipt attached.
    let raw = mail.wait_for_message("carol", "form-1@customer.test", Duration::from_secs(60))?;
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("the reply parses");
    let to = parsed
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default();
    assert_eq!(to, "carol@customer.test", "{raw}");
    assert_eq!(parsed.attachment_count(), 1, "{raw}");
    let attached = parsed.attachment(0).expect("the receipt");
    assert_eq!(attached.attachment_name(), Some("kuitti.txt"));
    assert!(
        attached.contents() == receipt.as_slice(),
        "the receipt arrives byte for byte"
    );
    silta.terminate().await;
    Ok(())
}

/// A customer's first message and Silta's reply to it; returns the
/// conversation id, the reply's interaction id and its Message-ID.
async fn write_in_and_reply(
    silta: &Silta,
    mail: &MailServers,
    customer: &str,
    message_id: &str,
) -> anyhow::Result<(String, String)> {
    Mail {
        from: customer,
        to: SUPPORT,
        message_id,
        subject: "Lasku",
        text: "Laskussa on virhe.",
        headers: &[],
    }
    .send(mail)
    .await?;
    let first = silta.linked_interaction(message_id).await;
    let conversation = first["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    let interaction = silta.reply(&conversation, "Korjaamme laskun.").await;
    Ok((conversation, interaction))
}

/// The interaction once `done` holds for its delivery history.
async fn wait_delivery(
    silta: &Silta,
    interaction: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Value {
    let what = format!("{what} in the delivery history of {interaction}");
    support::eventually(Duration::from_secs(60), &what, || async {
        let stored = silta
            .get_json(&format!("/v1/interactions/{interaction}"))
            .await;
        stored["delivery"]
            .as_array()
            .is_some_and(|d| done(d))
            .then_some(stored)
    })
    .await
}

/// A delivery status notification from a remote mail server about
/// `original` (RFC 3464), as it comes back to the sender's mailbox.
fn bounce_about(original: &str) -> Vec<u8> {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\n\
         To: {SUPPORT}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: Tue, 24 Nov 2026 09:05:00 +0200\r\n\
         Message-ID: <dsn-1@mx.customer.test>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\r\n\
         \r\n\
         --dsn\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         Your message could not be delivered to one or more recipients.\r\n\
         \r\n\
         --dsn\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; mx.customer.test\r\n\
         \r\n\
         Final-Recipient: rfc822; alice@customer.test\r\n\
         Action: failed\r\n\
         Status: 5.2.2\r\n\
         Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\
         \r\n\
         --dsn\r\n\
         Content-Type: text/rfc822-headers\r\n\
         \r\n\
         From: {SUPPORT}\r\n\
         To: alice@customer.test\r\n\
         Subject: Re: Lasku\r\n\
         Message-ID: <{original}>\r\n\
         \r\n\
         --dsn--\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounces_and_refused_recipients_land_in_the_delivery_history() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut silta = Silta::new(&email_config(&mail));
    silta.start().await;

    // A reply that Postfix refuses outright (no such user): failed, with
    // the server's code and text.
    let (_, refused) =
        write_in_and_reply(&silta, &mail, "ghost@customer.test", "g1@customer.test").await?;
    let stored = wait_delivery(&silta, &refused, "the 5xx refusal", |d| {
        d.iter().any(|e| e["state"] == "failed")
    })
    .await;
    let failed = stored["delivery"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["state"] == "failed"))
        .cloned()
        .expect("failed entry");
    assert!(
        failed["provider_code"]
            .as_str()
            .is_some_and(|c| c.starts_with('5')),
        "the SMTP code is kept: {failed}"
    );
    assert!(
        failed["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "the server's text is kept: {failed}"
    );

    // A reply that is accepted, then bounces later: the DSN that comes
    // back by IMAP marks it bounced and is not a customer message.
    let (conversation, sent) =
        write_in_and_reply(&silta, &mail, "alice@customer.test", "a1@customer.test").await?;
    wait_delivery(&silta, &sent, "the send", |d| {
        d.iter().any(|e| e["state"] == "sent")
    })
    .await;
    let raw = mail.wait_for_message("alice", "a1@customer.test", Duration::from_secs(60))?;
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("the reply parses");
    let reply_id = parsed.message_id().expect("Message-ID").to_owned();
    let transport =
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(mail.smtp_port())
            .build();
    let envelope = lettre::address::Envelope::new(None, vec![SUPPORT.parse()?])?;
    transport
        .send_raw(&envelope, &bounce_about(&reply_id))
        .await?;
    let stored = wait_delivery(&silta, &sent, "the bounce", |d| {
        d.iter().any(|e| e["state"] == "bounced")
    })
    .await;
    let bounced = stored["delivery"]
        .as_array()
        .and_then(|d| d.iter().find(|e| e["state"] == "bounced"))
        .cloned()
        .expect("bounced entry");
    assert_eq!(bounced["provider_code"], "5.2.2", "{bounced}");
    let in_conversation = silta
        .all_pages(&format!("/v1/conversations/{conversation}/interactions"))
        .await;
    assert!(
        in_conversation
            .iter()
            .all(|i| i["provenance"]["provider_message_id"] != "dsn-1@mx.customer.test"),
        "the bounce is not a customer message"
    );
    silta.terminate().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_servers_going_away_lose_nothing() -> anyhow::Result<()> {
    let mut mail = MailServers::start()?;
    let mut silta = Silta::new(&Config {
        max_attempts: Some(30),
        ..email_config(&mail)
    });
    silta.start().await;
    let (_, first_reply) =
        write_in_and_reply(&silta, &mail, "alice@customer.test", "o1@customer.test").await?;
    wait_delivery(&silta, &first_reply, "the first send", |d| {
        d.iter().any(|e| e["state"] == "sent")
    })
    .await;

    // Dovecot goes away; mail keeps arriving (Postfix writes the Maildir).
    mail.stop_imap()?;
    for n in 0..5 {
        Mail {
            from: "bob@customer.test",
            to: SUPPORT,
            message_id: &format!("down-{n}@customer.test"),
            subject: "Onko teillä katko?",
            text: "Viesti katkon aikana.",
            headers: &[],
        }
        .send(&mail)
        .await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    mail.start_imap()?;
    for n in 0..5 {
        silta
            .linked_interaction(&format!("down-{n}@customer.test"))
            .await;
    }

    // Postfix goes away while a reply is due: it is retried, then sent.
    mail.stop_smtp()?;
    let conversation = silta.linked_interaction("down-0@customer.test").await["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_owned();
    let interaction = silta.reply(&conversation, "Katko on ohi.").await;
    wait_delivery(&silta, &interaction, "a failed attempt", |d| {
        d.iter()
            .any(|e| e["state"] == "failed" || e["attempt"].as_u64() >= Some(2))
    })
    .await;
    mail.start_smtp()?;
    let stored = wait_delivery(
        &silta,
        &interaction,
        "the send after Postfix came back",
        |d| d.iter().any(|e| e["state"] == "sent"),
    )
    .await;
    mail.wait_for_message("bob", "Katko on ohi", Duration::from_secs(60))?;
    let attempts = stored["delivery"]
        .as_array()
        .map(|d| d.iter().filter_map(|e| e["attempt"].as_u64()).max())
        .unwrap_or_default()
        .unwrap_or_default();
    assert!(attempts >= 2, "the send was retried: {stored}");
    silta.terminate().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_silta_during_a_thousand_message_ingest_loses_and_repeats_nothing()
-> anyhow::Result<()> {
    const MESSAGES: usize = 1000;
    let mail = MailServers::start()?;
    let mut silta = Silta::new(&email_config(&mail));
    silta.start().await;

    // Four senders hand the mail to Postfix while Silta ingests it.
    let smtp_port = mail.smtp_port();
    let mut senders = Vec::new();
    for lane in 0..4 {
        senders.push(tokio::spawn(async move {
            let transport =
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(
                    "127.0.0.1",
                )
                .port(smtp_port)
                .build();
            for n in (lane..MESSAGES).step_by(4) {
                let customer =
                    format!("{}@customer.test", ["alice", "bob", "carol", "dave"][n % 4]);
                let id = format!("bulk-{n}@customer.test");
                let raw = Mail {
                    from: &customer,
                    to: SUPPORT,
                    message_id: &id,
                    subject: &format!("Viesti {n}"),
                    text: "Kuormatesti.",
                    headers: &[],
                }
                .raw();
                let envelope = lettre::address::Envelope::new(
                    Some(customer.parse()?),
                    vec![SUPPORT.parse()?],
                )?;
                transport.send_raw(&envelope, &raw).await?;
            }
            anyhow::Ok(())
        }));
    }

    // SIGKILL at uneven moments while mail flows in, then restart.
    for pause_ms in [700_u64, 1300, 400, 1900] {
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        silta.kill();
        silta.start().await;
    }
    for sender in senders {
        sender.await??;
    }

    let started = Instant::now();
    let interactions = loop {
        let all = silta.all_interactions().await;
        if all.len() >= MESSAGES {
            break all;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "only {} of {MESSAGES} messages ingested:\n{}",
            all.len(),
            silta.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut ids: Vec<String> = interactions
        .iter()
        .map(|i| {
            i["provenance"]["provider_message_id"]
                .as_str()
                .expect("provider id")
                .to_owned()
        })
        .collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!(total, ids.len(), "no message was ingested twice");
    assert_eq!(ids.len(), MESSAGES, "every message was ingested");
    for n in 0..MESSAGES {
        assert!(
            ids.binary_search(&format!("bulk-{n}@customer.test"))
                .is_ok(),
            "bulk-{n} is missing"
        );
    }
    silta.terminate().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_message_is_dead_lettered_and_the_mailbox_goes_on() -> anyhow::Result<()> {
    let mail = MailServers::start()?;
    let mut silta = Silta::new(&email_config(&mail));
    silta.start().await;
    Mail {
        from: "alice@customer.test",
        to: SUPPORT,
        message_id: "before@customer.test",
        subject: "Ensimmäinen",
        text: "Ensimmäinen viesti.",
        headers: &[],
    }
    .send(&mail)
    .await?;
    silta.linked_interaction("before@customer.test").await;

    // Another delivery agent drops a file that is not an email at all
    // into the mailbox (Maildir: written to tmp/, renamed into new/).
    let maildir = mail.maildir("support");
    let name = format!("{}.junk.silta-test", std::process::id());
    std::fs::write(
        maildir.join("tmp").join(&name),
        b"this is just a text file\nwithout any headers\n",
    )?;
    std::fs::rename(
        maildir.join("tmp").join(&name),
        maildir.join("new").join(&name),
    )?;

    Mail {
        from: "alice@customer.test",
        to: SUPPORT,
        message_id: "after@customer.test",
        subject: "Toinen",
        text: "Toinen viesti.",
        headers: &[],
    }
    .send(&mail)
    .await?;
    silta.linked_interaction("after@customer.test").await;

    let letter = support::eventually(
        Duration::from_secs(30),
        "the unreadable message in the dead-letter queue",
        || async {
            let letters = silta.get_json("/v1/dead-letters").await;
            letters
                .as_array()
                .and_then(|l| l.iter().find(|l| l["plugin"] == "email"))
                .cloned()
        },
    )
    .await;
    assert_eq!(letter["stage"], "normalize", "{letter}");
    assert_eq!(letter["error_kind"], "bad_input", "{letter}");
    assert!(
        letter["message"].as_str().is_some_and(|m| !m.is_empty()),
        "the reason is kept: {letter}"
    );
    silta.terminate().await;
    Ok(())
}
