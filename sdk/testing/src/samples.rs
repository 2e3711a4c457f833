//! Generated inputs too large to check in.

/// A 25 MB email: a short text part and an 18 MB+ base64 video attachment
/// (deterministic bytes, 76-column lines). For checking that a mail plugin
/// stays within its limits and passes large attachments by hash.
#[must_use]
pub fn large_email() -> Vec<u8> {
    let mut raw = String::with_capacity(26 * 1024 * 1024);
    raw.push_str(
        "From: Iso Liite <big@example.fi>\r\nTo: support@example.test\r\nSubject: Suuri liite\r\n\
         Date: Fri, 13 Nov 2026 10:00:00 +0200\r\nMessage-ID: <large-1@example.fi>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nLiitteenä videotiedosto.\r\n--big\r\n\
         Content-Type: video/mp4; name=\"video.mp4\"\r\n\
         Content-Disposition: attachment; filename=\"video.mp4\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    // Xorshift bytes look incompressible and are the same on every run.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state: u32 = 0x9e37_79b9;
    for _ in 0..25 * 1024 * 1024 / 78 {
        for _ in 0..76 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            raw.push(char::from(alphabet[(state % 64) as usize]));
        }
        raw.push_str("\r\n");
    }
    raw.push_str("--big--\r\n");
    raw.into_bytes()
}
