//! Where each kind of channel keeps its fixtures.

use std::path::{Path, PathBuf};

use crate::{ChannelSpec, Delivery};

/// The spec's (readable, unreadable) fixtures, each list sorted and
/// non-empty (panics naming the folder otherwise).
pub fn of(spec: &ChannelSpec) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (readable, unreadable) = match spec.delivery {
        Delivery::Webhook { .. } | Delivery::Gateway { .. } => (
            json_files(&spec.fixtures.join("valid")),
            json_files(&spec.fixtures.join("malformed")),
        ),
        Delivery::Mailbox { unreadable } => eml_files(&spec.fixtures)
            .into_iter()
            .partition(|p| !unreadable(p)),
    };
    assert!(
        !readable.is_empty(),
        "no readable fixtures under {}",
        spec.fixtures.display()
    );
    assert!(
        !unreadable.is_empty(),
        "no unreadable fixtures under {}",
        spec.fixtures.display()
    );
    (readable, unreadable)
}

/// The file extensions of webhook payloads: JSON bodies, and form bodies
/// (`application/x-www-form-urlencoded`, as Twilio posts them).
pub const WEBHOOK_EXTENSIONS: &[&str] = &["json", "form"];

/// The payloads in `dir` (not the golden files beside them).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension()
                        .is_some_and(|e| WEBHOOK_EXTENSIONS.iter().any(|x| e == *x))
                        && !p.to_string_lossy().ends_with(".normalized.json")
                        && !p.to_string_lossy().ends_with(".expected.json")
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Every `GROUP/NAME.eml` under `dir`.
fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|groups| {
            groups
                .flatten()
                .map(|group| group.path())
                .filter(|group| group.is_dir())
                .flat_map(|group| std::fs::read_dir(group).into_iter().flatten().flatten())
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A fixture's bytes.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The golden file of a fixture: `NAME.normalized.json` beside it.
pub fn golden_path(path: &Path) -> PathBuf {
    path.with_extension("normalized.json")
}
