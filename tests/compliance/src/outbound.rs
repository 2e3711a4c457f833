//! Outbound checks: what `render` makes, and how the provider's answers
//! map to delivery outcomes.

use silta_model::Part;
use silta_plugin_test::contract::{
    AttachmentBytes, HttpResponse, TransportRequest, TransportResponse,
};
use silta_runtime::{Error, PluginError};

use crate::ChannelSpec;

/// Check 5, for the transport the plugin renders to.
pub async fn check(spec: &ChannelSpec) {
    let request = spec
        .plugin
        .render(&spec.outbound)
        .await
        .unwrap_or_else(|e| panic!("outbound: render failed: {e}"));
    match &request {
        TransportRequest::Http(_) => http(spec, &request).await,
        TransportRequest::Email(_) => email(spec, &request).await,
    }
}

/// An HTTP request: a method, an absolute URL and valid headers; 200 is
/// sent (or delivered), 503 retryable, 400 failed (or permanent).
async fn http(spec: &ChannelSpec, request: &TransportRequest) {
    if let TransportRequest::Http(h) = request {
        h.method
            .parse::<http::Method>()
            .unwrap_or_else(|e| panic!("outbound: bad method {:?}: {e}", h.method));
        let uri: http::Uri = h
            .url
            .parse()
            .unwrap_or_else(|e| panic!("outbound: bad url {:?}: {e}", h.url));
        assert!(
            uri.scheme().is_some() && uri.host().is_some(),
            "outbound: url {:?} is not absolute",
            h.url
        );
        for (name, value) in &h.headers {
            http::HeaderName::from_bytes(name.as_bytes())
                .unwrap_or_else(|e| panic!("outbound: bad header name {name:?}: {e}"));
            http::HeaderValue::from_str(value)
                .unwrap_or_else(|e| panic!("outbound: bad header value for {name}: {e}"));
        }
    }
    let answer = |status: u16| {
        TransportResponse::Http(HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: br#"{"id":"provider-42"}"#.to_vec(),
        })
    };
    let sent = spec.plugin.interpret_response(request, &answer(200)).await;
    match sent {
        Ok(o) => assert!(
            matches!(
                o.state,
                silta_model::DeliveryState::Sent | silta_model::DeliveryState::Delivered
            ),
            "outbound: a 200 answer must mean sent or delivered, got {o:?}"
        ),
        Err(e) => panic!("outbound: a 200 answer failed: {e}"),
    }
    match spec.plugin.interpret_response(request, &answer(503)).await {
        Err(Error::Plugin {
            error: PluginError::Retryable { .. },
            ..
        }) => {}
        other => panic!("outbound: a 503 answer must be retryable, got {other:?}"),
    }
    match spec.plugin.interpret_response(request, &answer(400)).await {
        Ok(o) if o.state == silta_model::DeliveryState::Failed => {}
        Err(Error::Plugin {
            error: PluginError::Permanent(_),
            ..
        }) => {}
        other => panic!("outbound: a 400 answer must mean failed, got {other:?}"),
    }
}

/// An email: an envelope, a Message-ID it carries, attachments from the
/// host's bytes; SMTP 250 is sent, 451 retryable, 550 failed.
async fn email(spec: &ChannelSpec, request: &TransportRequest) {
    let TransportRequest::Email(email) = request else {
        panic!("outbound: an email channel must render an email request, got {request:?}");
    };
    assert!(
        email.envelope_from.contains('@') && !email.envelope_to.is_empty(),
        "outbound: incomplete envelope {email:?}"
    );
    assert!(
        !email.message_id.is_empty() && !email.message_id.contains(['<', '>']),
        "outbound: message id {:?} must be given without angle brackets",
        email.message_id
    );
    let raw = String::from_utf8_lossy(&email.raw);
    assert!(
        raw.contains(&format!("<{}>", email.message_id)),
        "outbound: the message does not carry its Message-ID"
    );
    mail_attachment(spec).await;
    let answer = |code: u16, text: &str| TransportResponse::Smtp {
        code,
        text: text.into(),
    };
    match spec
        .plugin
        .interpret_response(request, &answer(250, "2.0.0 Ok: queued"))
        .await
    {
        Ok(o) => assert!(
            o.state == silta_model::DeliveryState::Sent,
            "outbound: a 250 reply must mean sent, got {o:?}"
        ),
        Err(e) => panic!("outbound: a 250 reply failed: {e}"),
    }
    match spec
        .plugin
        .interpret_response(request, &answer(451, "4.7.1 try again later"))
        .await
    {
        Err(Error::Plugin {
            error: PluginError::Retryable { .. },
            ..
        }) => {}
        other => panic!("outbound: a 451 reply must be retryable, got {other:?}"),
    }
    match spec
        .plugin
        .interpret_response(request, &answer(550, "5.1.1 user unknown"))
        .await
    {
        Ok(o) if o.state == silta_model::DeliveryState::Failed => {}
        other => panic!("outbound: a 550 reply must mean failed, got {other:?}"),
    }
}

/// An attachment named by content hash reaches the message with the
/// bytes the host hands over, as the host's sender does from its blob
/// store.
async fn mail_attachment(spec: &ChannelSpec) {
    let bytes = vec![b'Z'; 300];
    let hash = silta_model::ContentHash::of(&bytes);
    let mut message = spec.outbound.clone();
    message
        .parts
        .push(Part::Attachment(silta_model::Attachment {
            filename: Some("compliance.bin".into()),
            media_type: "application/octet-stream".into(),
            size_bytes: Some(300),
            content_hash: Some(hash.clone()),
            url: None,
            content_id: None,
            inline: false,
        }));
    let bytes_by_hash = AttachmentBytes::from([(hash, bytes)]);
    let request = spec
        .plugin
        .render_with(&message, &bytes_by_hash)
        .await
        .unwrap_or_else(|e| panic!("outbound: render with an attachment failed: {e}"));
    let TransportRequest::Email(email) = &request else {
        panic!("outbound: an email channel must render an email request, got {request:?}");
    };
    let raw = String::from_utf8_lossy(&email.raw);
    assert!(
        raw.contains("compliance.bin") && raw.contains("WlpaWlpaWlpa"),
        "outbound: the attachment's name and base64 bytes are missing:\n{raw}"
    );
}
