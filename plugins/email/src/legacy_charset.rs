//! Mail that says UTF-8 (or nothing) but is not: raw 8-bit headers from old
//! clients and text parts labelled `utf-8` or `us-ascii` holding Latin-1
//! bytes. Such bytes would otherwise decode to replacement characters; in
//! the mail Silta sees they are almost always Windows-1252 (a superset of
//! the printable ISO-8859-1), so that is the fallback. Bytes that are valid
//! UTF-8 are never touched.

use std::borrow::Cow;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, Message, MessagePart, MimeHeaders};

/// `raw` with its header section converted from Windows-1252 to UTF-8 when
/// it is not valid UTF-8 (RFC 6532 allows UTF-8 headers; anything else
/// 8-bit is legacy). The body is left as it is.
#[must_use]
pub fn utf8_headers(raw: &[u8]) -> Cow<'_, [u8]> {
    let end = header_end(raw);
    let (headers, body) = raw.split_at(end);
    if std::str::from_utf8(headers).is_ok() {
        return Cow::Borrowed(raw);
    }
    let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(headers);
    let mut fixed = Vec::with_capacity(raw.len() + decoded.len() - headers.len());
    fixed.extend_from_slice(decoded.as_bytes());
    fixed.extend_from_slice(body);
    Cow::Owned(fixed)
}

/// The offset just past the blank line ending the header section (or the
/// whole input when there is none).
fn header_end(raw: &[u8]) -> usize {
    let mut at = 0;
    while at < raw.len() {
        let line_end = raw[at..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(raw.len(), |n| at + n + 1);
        let line = &raw[at..line_end];
        if line == b"\n" || line == b"\r\n" {
            return at;
        }
        at = line_end;
    }
    raw.len()
}

/// A text part's text, decoded again as Windows-1252 when its bytes are
/// not the UTF-8 (or ASCII) its label claims; `None` when the parser's
/// decoding stands.
#[must_use]
pub fn redecoded_text(
    message: &Message<'_>,
    part: &MessagePart<'_>,
    decoded: &str,
) -> Option<String> {
    if !decoded.contains('\u{FFFD}') || !claims_utf8(part) {
        return None;
    }
    let start = usize::try_from(part.offset_body).ok()?;
    let end = usize::try_from(part.offset_end).ok()?;
    let body = message.raw_message().get(start..end)?;
    let bytes = match part.encoding {
        Encoding::None => body.to_vec(),
        Encoding::QuotedPrintable => quoted_printable_decode(body)?,
        Encoding::Base64 => base64_decode(body)?,
    };
    if std::str::from_utf8(&bytes).is_ok() {
        return None;
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    Some(text.into_owned())
}

/// Labelled UTF-8 or ASCII, unlabelled, or labelled with a name no decoder
/// knows: the cases where a Windows-1252 guess beats replacement
/// characters. A part labelled with a real legacy charset is decoded by
/// that charset and left alone.
fn claims_utf8(part: &MessagePart<'_>) -> bool {
    let Some(label) = part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .map(str::trim)
    else {
        return true;
    };
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        None => true,
        Some(encoding) => encoding == encoding_rs::UTF_8 || label.eq_ignore_ascii_case("us-ascii"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_headers_are_left_alone_and_latin1_ones_converted() {
        let utf8 = "Subject: Hyvä\r\n\r\nbody \u{e4}".as_bytes();
        assert!(matches!(utf8_headers(utf8), Cow::Borrowed(_)));
        let latin1 = b"Subject: Hyv\xe4 \x80\r\n\r\nbody \xe4";
        let fixed = utf8_headers(latin1);
        let mut expected = "Subject: Hyvä €\r\n\r\n".as_bytes().to_vec();
        expected.extend_from_slice(b"body \xe4");
        assert_eq!(
            fixed.as_ref(),
            expected.as_slice(),
            "the body keeps its bytes"
        );
    }

    #[test]
    fn the_header_section_ends_at_the_first_blank_line() {
        assert_eq!(header_end(b"A: b\r\nC: d\r\n\r\nbody"), 12);
        assert_eq!(header_end(b"A: b\n\nbody"), 5);
        assert_eq!(header_end(b"A: b"), 4);
    }
}
