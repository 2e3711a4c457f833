//! Separating the new text of a reply from the history it quotes.
//!
//! The rules, in order:
//!
//! 1. A **quote header** starts the history: an attribution line
//!    (`On Mon, 3 Nov 2026, Aino <a@x> wrote:`, `ma 3.11.2026 klo 10.12
//!    Aino kirjoitti:`, `... schrieb:`, `... skrev:`, possibly wrapped over
//!    two lines), an `-----Original Message-----` or `Alkuperäinen viesti`
//!    separator, or an Outlook header block (`From:`/`Lähettäjä:` followed
//!    within a few lines by `Sent:`/`Lähetetty:`/`Date:`, or a block
//!    starting at `Lähetetty:`/`Sent:` itself). Everything from it on is
//!    history.
//! 2. Otherwise, lines starting with `>` are history. When new text follows
//!    the quoted lines (bottom posting, interleaved answers), the new text
//!    is every unquoted line; the quoted lines are the history.
//!
//! When the split would leave no new text (a bare forward), nothing is
//! split: the whole text is the new text.

/// The new text and, when the text quotes earlier messages, the quoted
/// history (both trimmed).
pub fn split(text: &str) -> (String, Option<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let header = quote_header(&lines);
    // A header with only blank lines above it introduces bottom-posted or
    // interleaved answers: it belongs to the quoted lines below it.
    let leading_header = header.filter(|at| {
        lines
            .get(..*at)
            .unwrap_or_default()
            .iter()
            .all(|line| line.trim().is_empty())
    });
    if let Some(at) = header
        && leading_header.is_none()
    {
        let new = lines.get(..at).unwrap_or_default().join("\n");
        let old = lines.get(at..).unwrap_or_default().join("\n");
        return finish(new, old, text);
    }
    let quoted_line =
        |n: usize, line: &str| Some(n) == leading_header || line.trim_start().starts_with('>');
    let Some(first) = lines
        .iter()
        .enumerate()
        .position(|(n, l)| quoted_line(n, l))
    else {
        return (text.trim().to_owned(), None);
    };
    let after_quote_has_text = lines
        .iter()
        .enumerate()
        .skip(first)
        .any(|(n, line)| !quoted_line(n, line) && !line.trim().is_empty());
    if after_quote_has_text {
        let pick = |want: bool| -> Vec<&str> {
            lines
                .iter()
                .enumerate()
                .filter(|(n, l)| quoted_line(*n, l) == want)
                .map(|(_, l)| *l)
                .collect()
        };
        let (new, old) = (pick(false), pick(true));
        finish(new.join("\n"), old.join("\n"), text)
    } else {
        let new = lines.get(..first).unwrap_or_default().join("\n");
        let old = lines.get(first..).unwrap_or_default().join("\n");
        finish(new, old, text)
    }
}

fn finish(new: String, old: String, whole: &str) -> (String, Option<String>) {
    let new = new.trim();
    let old = old.trim();
    if new.is_empty() || old.is_empty() {
        return (whole.trim().to_owned(), None);
    }
    (new.to_owned(), Some(old.to_owned()))
}

/// The index of the first line that starts quoted history, if any.
fn quote_header(lines: &[&str]) -> Option<usize> {
    for (n, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('>') {
            continue;
        }
        if is_separator(line) || is_attribution(line) {
            return Some(n);
        }
        // An attribution wrapped over two lines by the sending client.
        if let Some(next) = lines.get(n + 1)
            && line.len() < 200
            && is_attribution(&format!("{line} {}", next.trim()))
            && starts_like_attribution(line)
        {
            return Some(n);
        }
        if is_outlook_block(lines, n) {
            return Some(n);
        }
    }
    None
}

fn is_separator(line: &str) -> bool {
    let lower = line.to_lowercase();
    let core = lower.trim_matches(|c: char| c == '-' || c == '_' || c.is_whitespace());
    line.starts_with("--")
        && matches!(
            core,
            "original message"
                | "alkuperäinen viesti"
                | "ursprüngliche nachricht"
                | "ursprungligt meddelande"
                | "forwarded message"
                | "välitetty viesti"
        )
}

/// `On ... wrote:` and its translations.
fn is_attribution(line: &str) -> bool {
    let lower = line.to_lowercase();
    let lower = lower.trim_end();
    (lower.ends_with("wrote:") && starts_like_attribution(line))
        || lower.ends_with("kirjoitti:")
        || lower.ends_with("schrieb:")
        || lower.ends_with("skrev:")
        || lower.ends_with("a écrit :")
        || lower.ends_with("a écrit:")
}

fn starts_like_attribution(line: &str) -> bool {
    let lower = line.to_lowercase();
    lower.starts_with("on ")
        || lower.starts_with("am ")
        || lower.starts_with("le ")
        || lower.starts_with("den ")
        || lower.starts_with("ma ")
        || lower.starts_with("ti ")
        || lower.starts_with("ke ")
        || lower.starts_with("to ")
        || lower.starts_with("pe ")
        || lower.starts_with("la ")
        || lower.starts_with("su ")
        || lower.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// An Outlook header block: `From:` (or `Lähettäjä:`, `Von:`, `Från:`)
/// with a `Sent:`/`Date:` line right after it, or a block that starts at
/// `Lähetetty:`/`Sent:` with a `To:`/`Subject:` line right after.
fn is_outlook_block(lines: &[&str], at: usize) -> bool {
    let Some(line) = lines.get(at) else {
        return false;
    };
    let starts = |line: &str, names: &[&str]| {
        let line = line.trim().trim_start_matches('*').to_lowercase();
        names.iter().any(|name| line.starts_with(name))
    };
    const FROM: &[&str] = &["from:", "lähettäjä:", "von:", "från:"];
    const SENT: &[&str] = &[
        "sent:",
        "lähetetty:",
        "date:",
        "päivämäärä:",
        "gesendet:",
        "skickat:",
    ];
    const REST: &[&str] = &[
        "to:",
        "vastaanottaja:",
        "subject:",
        "aihe:",
        "an:",
        "till:",
        "betreff:",
        "ämne:",
        "cc:",
        "kopio:",
    ];
    let next = |k: usize| lines.get(at + k).copied().unwrap_or_default();
    if starts(line, FROM) {
        return (1..=2).any(|k| starts(next(k), SENT));
    }
    starts(line, SENT) && (1..=2).any(|k| starts(next(k), REST))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_top_posting() {
        let text = "Thanks, that works.\n\nOn Mon, 3 Nov 2026 at 10:12, Support <support@example.test> wrote:\n> Try again.\n";
        let (new, old) = split(text);
        assert_eq!(new, "Thanks, that works.");
        assert!(old.expect("quoted").starts_with("On Mon"));
    }

    #[test]
    fn wrapped_attribution() {
        let text = "Kiitos!\n\nOn Mon, 3 Nov 2026 at 10:12, Silta Support\n<support@example.test> wrote:\n> Hei\n";
        let (new, old) = split(text);
        assert_eq!(new, "Kiitos!");
        assert!(old.is_some());
    }

    #[test]
    fn outlook_finnish_block() {
        let text = "Hei,\nkyllä sopii.\n\nLähettäjä: Tuki <support@example.test>\nLähetetty: maanantai 3. marraskuuta 2026 10.12\nVastaanottaja: Aino\nAihe: Tilaus\n\nHei Aino";
        let (new, old) = split(text);
        assert_eq!(new, "Hei,\nkyllä sopii.");
        assert!(old.expect("quoted").starts_with("Lähettäjä:"));
    }

    #[test]
    fn bottom_posting_keeps_the_unquoted_lines() {
        let text = "> Is it broken?\nYes.\n> Since when?\nMonday.";
        let (new, old) = split(text);
        assert_eq!(new, "Yes.\nMonday.");
        assert_eq!(old.as_deref(), Some("> Is it broken?\n> Since when?"));
    }

    #[test]
    fn thunderbird_bottom_posting_with_attribution_first() {
        let text = "On 4.11.2026 16.40, Support wrote:\n> Hei\n\nKokeilin.\n> Entä?\nSama.";
        let (new, old) = split(text);
        assert_eq!(new, "Kokeilin.\nSama.");
        assert_eq!(
            old.as_deref(),
            Some("On 4.11.2026 16.40, Support wrote:\n> Hei\n> Entä?")
        );
    }

    #[test]
    fn a_bare_quote_is_not_split() {
        let (new, old) = split("> only quoted\n");
        assert_eq!(new, "> only quoted");
        assert_eq!(old, None);
        let (new, old) = split("Just text.");
        assert_eq!((new.as_str(), old), ("Just text.", None));
    }
}
