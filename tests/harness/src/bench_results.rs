//! `benches/RESULTS.md`: one file, one section per benchmark, each
//! benchmark rewriting only its own section between markers.

use std::path::PathBuf;

/// The results file at the repository root.
pub fn results_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches/RESULTS.md")
}

/// Replace (or append) the section `name` with `markdown`.
pub fn write_section(name: &str, markdown: &str) {
    let path = results_file();
    let begin = format!("<!-- bench:{name} -->");
    let end = format!("<!-- /bench:{name} -->");
    let old = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| "# Benchmarks\n\nEach section is written by the benchmark it names; run it to refresh.\n".into());
    let section = format!("{begin}\n{}\n{end}", markdown.trim_end());
    let new = match (old.find(&begin), old.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &old[..a], section, &old[b + end.len()..]),
        _ => format!("{}\n{}\n", old.trim_end(), section),
    };
    match std::fs::write(&path, new) {
        Ok(()) => println!("wrote section `{name}` of {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}

/// "AMD EPYC, 2 cores" and the date, for the head of a section.
pub fn machine_and_date() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    format!("{cpu}, {cores} cores; {date}")
}

/// Criterion's mean estimate for `group/name`, in nanoseconds, read from
/// the criterion output directory of the running bench binary.
pub fn criterion_mean_ns(group: &str, name: &str) -> Option<f64> {
    let dir = match std::env::var_os("CRITERION_HOME") {
        Some(home) => PathBuf::from(home),
        None => std::env::current_exe()
            .ok()?
            .ancestors()
            .find(|p| p.join("CACHEDIR.TAG").is_file())?
            .join("criterion"),
    };
    let text =
        std::fs::read_to_string(dir.join(group).join(name).join("new/estimates.json")).ok()?;
    let at = text.find("\"mean\"")?;
    let rest = &text[at..];
    let pe = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let num: String = rest[pe..]
        .chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .collect();
    num.parse().ok()
}

/// Nanoseconds as `1.23 µs` or `456.7 ns`.
pub fn format_ns(ns: Option<f64>) -> String {
    match ns {
        Some(ns) if ns >= 1000.0 => format!("{:.2} µs", ns / 1000.0),
        Some(ns) => format!("{ns:.1} ns"),
        None => "n/a".into(),
    }
}
