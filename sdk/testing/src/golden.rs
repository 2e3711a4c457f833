//! Golden files: compare output with a checked-in file, or rewrite the file
//! when `BLESS=1` is set (then review the diff before committing).

use std::path::Path;

/// Whether this run rewrites golden files (`BLESS=1`).
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v == "1")
}

/// Compare `actual` with the file at `expected`; with `BLESS=1`, write it
/// instead. `Err` carries a message showing both sides, ready for a test
/// to report.
pub fn check(expected: &Path, actual: &str) -> Result<(), String> {
    if blessing() {
        return std::fs::write(expected, actual)
            .map_err(|e| format!("{}: {e}", expected.display()));
    }
    match std::fs::read_to_string(expected) {
        Ok(text) if text == actual => Ok(()),
        Ok(text) => Err(format!(
            "{} differs (BLESS=1 rewrites it):\n--- expected\n{text}\n+++ actual\n{actual}",
            expected.display()
        )),
        Err(_) => Err(format!(
            "{} is missing; create it with BLESS=1. It would be:\n{actual}",
            expected.display()
        )),
    }
}

/// Run [`check`] for many fixtures and fail once, listing every mismatch.
pub fn assert_all(results: impl IntoIterator<Item = Result<(), String>>) {
    let mismatches: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        mismatches.is_empty(),
        "{} golden file(s) differ:\n\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_differences_and_missing_files() {
        let dir = std::env::temp_dir().join(format!("silta-golden-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.expected.json");
        std::fs::write(&file, "a\n").unwrap();
        if !blessing() {
            assert!(check(&file, "a\n").is_ok());
            assert!(check(&file, "b\n").unwrap_err().contains("+++ actual\nb"));
            assert!(
                check(&dir.join("none.json"), "c")
                    .unwrap_err()
                    .contains("BLESS=1")
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
