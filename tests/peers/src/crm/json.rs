//! Just enough JSON for the CRM helpers: a small reader into [`Json`] and a
//! string writer. The peers crate stays free of serde; BottleCRM's answers are
//! small and well-formed, and anything else is an error, never a panic.

use anyhow::{Context, Result, bail};

/// A parsed JSON value. Numbers keep their text, so ids round-trip exactly.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

// === impl Json ===

impl Json {
    /// Parses a whole document.
    pub(crate) fn parse(text: &str) -> Result<Json> {
        let mut reader = Reader {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = reader.value(0)?;
        reader.space();
        if reader.at != reader.bytes.len() {
            bail!("trailing text after the JSON value at byte {}", reader.at);
        }
        Ok(value)
    }

    /// The member `key` of an object (`Null` when absent or not an object).
    pub(crate) fn get(&self, key: &str) -> &Json {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&Json::Null, |(_, v)| v),
            _ => &Json::Null,
        }
    }

    /// The elements of an array (empty for anything else).
    pub(crate) fn items(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => &[],
        }
    }

    /// A string's text; `None` for anything else.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// A string's text, or "" for null and anything else.
    pub(crate) fn text(&self) -> String {
        self.as_str().unwrap_or_default().to_owned()
    }

    /// A non-negative integer.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// `s` as a JSON string literal.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

// === impl Reader ===

impl Reader<'_> {
    fn space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek() != Some(byte) {
            bail!("expected '{}' at byte {}", byte as char, self.at);
        }
        self.at += 1;
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Json> {
        if depth > MAX_DEPTH {
            bail!("JSON nested deeper than {MAX_DEPTH}");
        }
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => Ok(self.number()),
            _ => bail!("expected a JSON value at byte {}", self.at),
        }
    }

    fn word(&mut self, word: &str, value: Json) -> Result<Json> {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            bail!("expected `{word}` at byte {}", self.at);
        }
        self.at += word.len();
        Ok(value)
    }

    fn number(&mut self) -> Json {
        let start = self.at;
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.at += 1;
        }
        Json::Number(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    fn object(&mut self, depth: usize) -> Result<Json> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                bail!("expected a key at byte {}", self.at);
            }
            let key = self.string()?;
            self.expect(b':')?;
            members.push((key, self.value(depth + 1)?));
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => bail!("expected ',' or '}}' at byte {}", self.at),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => bail!("expected ',' or ']' at byte {}", self.at),
            }
        }
    }

    fn string(&mut self) -> Result<String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let byte = *self
                .bytes
                .get(self.at)
                .context("unterminated JSON string")?;
            self.at += 1;
            match byte {
                b'"' => return String::from_utf8(out).context("a JSON string is not UTF-8"),
                b'\\' => {
                    let escape = *self.bytes.get(self.at).context("unterminated escape")?;
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        other => bail!("unknown escape `\\{}`", other as char),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                other => out.push(other),
            }
        }
    }

    /// The character of `\uXXXX` (the `\u` already read), joining a
    /// surrogate pair.
    fn unicode_escape(&mut self) -> Result<char> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).context("a \\u escape is not a character");
        }
        if !self.bytes[self.at..].starts_with(b"\\u") {
            bail!("a lone surrogate in a \\u escape");
        }
        self.at += 2;
        let low = self.hex4()?;
        let code = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
        char::from_u32(code).context("a bad surrogate pair")
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .context("a short \\u escape")?;
        self.at += 4;
        let text = std::str::from_utf8(digits).context("a \\u escape is not hex")?;
        u32::from_str_radix(text, 16).context("a \\u escape is not hex")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_bottlecrm_writes() {
        let json = Json::parse(
            r#" {"count": 2, "items": [{"id": 7, "name": "Ai\u00e4 \"x\"", "ok": true,
                 "none": null, "emoji": "\ud83d\ude00"}, -1.5e3]} "#,
        )
        .unwrap();
        assert_eq!(json.get("count").as_u64(), Some(2));
        let first = &json.get("items").items()[0];
        assert_eq!(first.get("id").as_u64(), Some(7));
        assert_eq!(first.get("name").as_str(), Some("Aiä \"x\""));
        assert_eq!(first.get("emoji").as_str(), Some("😀"));
        assert_eq!(first.get("none"), &Json::Null);
        assert_eq!(first.get("missing"), &Json::Null);
        assert_eq!(json.get("items").items()[1], Json::Number("-1.5e3".into()));
    }

    #[test]
    fn refuses_broken_documents() {
        for bad in [
            "",
            "{",
            r#"{"a" 1}"#,
            "[1,]",
            r#""abc"#,
            "tru",
            "{} x",
            r#""\ud800""#,
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writes_strings_that_read_back() {
        let text = "a \"b\" \\ c\n\t\u{1}ä";
        assert_eq!(
            Json::parse(&string(text)).unwrap(),
            Json::String(text.into())
        );
    }
}
