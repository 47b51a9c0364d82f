//! `gleaner import issues`: what was read from each past issue, and what it added.

use std::fmt::Write;

use super::one_line;
use crate::model::ImportReport;

/// One line per file (its issue, date and items by section, or why it gave nothing), then
/// the totals and what was new.
pub fn text(r: &ImportReport) -> String {
    let mut out = String::new();
    let mut issues = 0;
    for f in &r.files {
        let name = one_line(&f.path.display().to_string());
        match &f.issue {
            Ok((number, date)) => {
                issues += 1;
                let n: usize = f.sections.iter().map(|(_, n)| n).sum();
                let sections = f
                    .sections
                    .iter()
                    .map(|(s, n)| {
                        format!("{} {n}", one_line(s.as_deref().unwrap_or("(no section)")))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    out,
                    "{name}: issue {number} of {}, {n} item{}{}",
                    date.format("%Y-%m-%d"),
                    if n == 1 { "" } else { "s" },
                    if sections.is_empty() {
                        String::new()
                    } else {
                        format!(" ({sections})")
                    }
                );
            }
            Err(why) => {
                let _ = writeln!(out, "{name}: skipped: {why}");
            }
        }
    }
    let verb = if r.dry_run { "would add" } else { "added" };
    let _ = writeln!(
        out,
        "{issues} issue{}, {} item{}, {} distinct link{}; {verb} {} issue{}, {} link{} to the ledger (never suggested again) and {} example{} for the ranking{}",
        plural(issues),
        r.items,
        plural(r.items),
        r.links,
        plural(r.links),
        r.added.issues,
        plural(r.added.issues),
        r.added.links,
        plural(r.added.links),
        r.added.items,
        plural(r.added.items),
        if r.dry_run {
            " (dry run: nothing written)"
        } else {
            ""
        }
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
