//! `silta dlq list` and `silta dlq replay`.
//!
//! Both open the store and plugins of the configuration directly, so they
//! work whether or not a server is running beside them (SQLite lets the two
//! processes share the file; writes wait for each other).

use std::path::Path;

use silta_pipeline::dlq;
use silta_store::records::DeadLetterFilter;

use crate::run::Node;

/// `silta dlq list`.
pub async fn list(
    config: Option<&Path>,
    filter: DeadLetterFilter,
    json: bool,
) -> anyhow::Result<()> {
    let node = Node::open(config).await?;
    let letters = dlq::list(&*node.store, &filter).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&letters)?);
        return Ok(());
    }
    if letters.is_empty() {
        println!("the dead-letter queue is empty");
        return Ok(());
    }
    println!(
        "{:>6}  {:<8}  {:<10}  {:<10}  {:<18}  {:>8}  message",
        "id", "source", "plugin", "stage", "kind", "attempts"
    );
    for l in &letters {
        let f = &l.failure;
        println!(
            "{:>6}  {:<8}  {:<10}  {:<10}  {:<18}  {:>8}  {}",
            l.id,
            f.source.as_str(),
            f.plugin,
            f.stage,
            f.error_kind,
            l.attempts,
            f.message
        );
    }
    println!("{} dead letter(s)", letters.len());
    Ok(())
}

/// `silta dlq replay`: replays the matching dead letters; fails when any
/// replay failed (the dead letter stays, with the attempt counted).
pub async fn replay(config: Option<&Path>, filter: DeadLetterFilter) -> anyhow::Result<()> {
    let node = Node::open(config).await?;
    let report = dlq::replay(&*node.store, &node.inbound, &node.sender, &filter).await?;
    if report.is_empty() {
        println!("no dead letter matches");
        return Ok(());
    }
    let failed = report.iter().filter(|r| !r.succeeded).count();
    for r in &report {
        println!(
            "{:>6}  {}  {}",
            r.id,
            if r.succeeded { "replayed" } else { "FAILED  " },
            r.detail
        );
    }
    println!("{} replayed, {} failed", report.len() - failed, failed);
    anyhow::ensure!(
        failed == 0,
        "{failed} dead letter(s) failed again and stay in the queue"
    );
    Ok(())
}
