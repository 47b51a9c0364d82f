//! Issues and the weekly digest: draft, publish, the digest of a week, and the import of past
//! issues.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::candidates::{refresh, section_of};
use super::ranking::{self, Filter};
use super::scoring::{learned_model, rescore};
use super::{DeskError, write};
use crate::clean;
use crate::config::Config;
use crate::model::Sections;
use crate::model::{Candidate, ImportReport, ImportedFile};
use crate::output;
use crate::store::Store;

/// The number the next issue gets.
pub async fn next_issue(store: &Store) -> Result<i64, DeskError> {
    Ok(store.last_issue().await?.map_or(1, |(n, _)| n + 1))
}

/// What [`draft`] wrote, and the same draft as HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Drafted {
    pub number: i64,
    pub path: PathBuf,
    pub markdown: String,
    /// [`output::draft::html`]: to paste into a newsletter editor (not written to a file).
    pub html: String,
    pub items: usize,
}

/// Writes `out/issue-N.md`: the unpublished picks (or, for a published issue, its items).
pub async fn draft(
    config: &Config,
    store: &Store,
    issue: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Drafted, DeskError> {
    let number = match issue {
        Some(n) => n,
        None => next_issue(store).await?,
    };
    let published = store.issue_published_at(number).await?;
    let picked = store.picked(published.map(|_| number), None).await?;
    let mut items: Vec<output::draft::DraftItem> = picked
        .iter()
        .map(|p| output::draft::DraftItem {
            section: section_of(&p.decision, p.feed_section.as_deref(), &p.story),
            title: p.story.title.clone(),
            blurb: p.decision.blurb.clone(),
            excerpt: p.story.excerpt.clone(),
            url: p.story.url.clone(),
            also_at: p.decision.also_at.clone(),
        })
        .collect();
    // Oldest pick first within a section: the order the editor chose them.
    items.reverse();
    if published.is_none() {
        let ids: Vec<i64> = picked.iter().map(|p| p.story.id).collect();
        store.set_draft(number, &ids).await?;
    }
    let date = published.unwrap_or(now);
    let (title, sections) = (&config.output.title, &config.output.sections);
    let markdown = output::draft::render(title, number, date, sections, &items);
    let path = config.output.dir.join(format!("issue-{number}.md"));
    write(&path, &markdown)?;
    Ok(Drafted {
        number,
        path,
        markdown,
        html: output::draft::html(title, number, date, sections, &items),
        items: items.len(),
    })
}

/// What `publish` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub items: usize,
    /// Picks made after the draft was written: they wait for the next issue.
    pub held_for_next: usize,
}

/// Publishes issue `number`: its items are the picks in its draft (all unpublished picks when
/// no draft was written); their links enter the ledger; the next candidate window starts now.
pub async fn publish(
    config: &Config,
    store: &Store,
    number: i64,
    now: DateTime<Utc>,
) -> Result<Published, DeskError> {
    if number < 1 {
        return Err(DeskError::Invalid("issue numbers start at 1".into()));
    }
    if let Some(at) = store.issue_published_at(number).await? {
        return Err(DeskError::Invalid(format!(
            "issue {number} was already published on {}",
            at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let pending = store.picked(None, None).await?;
    let drafted = store.draft_items(number).await?;
    let picked: Vec<_> = if drafted.is_empty() {
        pending.iter().collect()
    } else {
        pending
            .iter()
            .filter(|p| drafted.contains(&p.story.id))
            .collect()
    };
    if picked.is_empty() {
        return Err(DeskError::Invalid(
            "nothing to publish: pick stories (and write the draft) first".into(),
        ));
    }
    let mut ledger = Vec::new();
    for p in &picked {
        let section = section_of(&p.decision, p.feed_section.as_deref(), &p.story);
        let urls = p.story.canonical_url.iter().cloned().chain(
            p.decision
                .also_at
                .iter()
                .filter_map(|u| clean::canonical::canonicalize(u)),
        );
        for u in urls {
            ledger.push((u, p.story.id, Some(section.clone())));
        }
    }
    let ids: Vec<i64> = picked.iter().map(|p| p.story.id).collect();
    let n = store.publish(number, &ids, &ledger, now).await?;
    refresh(config, store, now).await?;
    Ok(Published {
        items: n as usize,
        held_for_next: pending.len() - picked.len(),
    })
}

/// Parses `2014-W15` into the Monday 00:00 UTC that starts it.
pub fn parse_week(s: &str) -> Result<DateTime<Utc>, String> {
    let bad = || format!("`{s}` is not an ISO week like 2014-W15");
    let (y, w) = s
        .trim()
        .split_once("-W")
        .or_else(|| s.trim().split_once("-w"))
        .ok_or_else(bad)?;
    // Four-digit years and one- or two-digit weeks, as ISO 8601 writes them (and as the
    // page's week picker does): chrono's range runs to ±262,143, where a week later overflows.
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !(1..=2).contains(&w.len()) || !w.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let w: u32 = w.parse().map_err(|_| bad())?;
    let d = NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon).ok_or_else(bad)?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// The ISO week label of a time.
pub fn week_of(t: DateTime<Utc>) -> String {
    let w = t.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Output format of the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestFormat {
    Markdown,
    Html,
}

/// Renders (and writes to `out/digest-YYYY-Www.md|html`) the digest of one ISO week.
pub async fn digest(
    config: &Config,
    store: &Store,
    week: &str,
    format: DigestFormat,
    now: DateTime<Utc>,
) -> Result<(PathBuf, String), DeskError> {
    let d = digest_of(config, store, week, now).await?;
    let (text, ext) = match format {
        DigestFormat::Markdown => (output::digest::markdown(&d), "md"),
        DigestFormat::Html => (output::digest::html(&d), "html"),
    };
    let path = config.output.dir.join(format!("digest-{}.{ext}", d.week));
    write(&path, &text)?;
    Ok((path, text))
}

/// The digest of one ISO week, to render (nothing is written).
pub async fn digest_of(
    config: &Config,
    store: &Store,
    week: &str,
    now: DateTime<Utc>,
) -> Result<output::digest::Digest, DeskError> {
    let since = parse_week(week).map_err(DeskError::Invalid)?;
    let until = since + chrono::Duration::days(7);
    digest_between(config, store, &week_of(since), since, until, None, now).await
}

/// The digest of the stories of `[since, until)`, labelled `label` (an ISO week), with at most
/// `top` candidates per section (all that rank, up to `[output] per_section`, when `None`).
/// Stale scores are refreshed first, stamped `now`.
pub async fn digest_between(
    config: &Config,
    store: &Store,
    label: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    top: Option<usize>,
    now: DateTime<Utc>,
) -> Result<output::digest::Digest, DeskError> {
    rescore(config, store, false, now).await?;
    // The week as it was read: decisions and the ledger do not hide anything here.
    let mut window = store
        .window(since, until - chrono::Duration::seconds(1), since, false)
        .await?;
    for r in &mut window {
        r.decided = None;
    }
    let live = window
        .iter()
        .filter(|r| r.base.is_some() && !r.vetoed)
        .count();
    let model = learned_model(config, store, until, since).await?;
    let groups = ranking::rank(
        &window,
        config,
        until,
        since,
        model.as_ref(),
        &Filter::default(),
    );
    let details = store
        .story_details(&ranking::needed(&window, &groups))
        .await?;
    let cands = ranking::assemble(&window, &groups, &details);
    let grouped: usize = cands.iter().map(|c| c.also_ids.len()).sum();
    let shown: usize = cands.len();
    let near_duplicates = grouped.min(live.saturating_sub(shown));
    let mut sections: Vec<(String, Vec<Candidate>)> = Vec::new();
    for c in cands {
        match sections.iter_mut().find(|(s, _)| *s == c.section) {
            Some((_, v)) => v.push(c),
            None => sections.push((c.section.clone(), vec![c])),
        }
    }
    let configured = &config.output.sections;
    for s in configured.iter() {
        if !sections.iter().any(|(x, _)| Sections::same(x, s)) {
            sections.push((s.clone(), Vec::new()));
        }
    }
    sections.sort_by_key(|(s, _)| configured.rank(s));
    if let Some(top) = top {
        for (_, v) in &mut sections {
            v.truncate(top);
        }
    }
    Ok(output::digest::Digest {
        newsletter: config.output.title.clone(),
        week: label.to_string(),
        since,
        until,
        activity: store.activity(since, until).await?,
        near_duplicates,
        sections,
    })
}

/// `gleaner import issues FILE…`: reads past issues (the Markdown `draft` writes, or a sent
/// issue's or an archive page's HTML), puts every link in the ledger (never suggested again)
/// and every item in the catalogue the ranking learns from. Idempotent. A file without an issue
/// number is reported and skipped; one without a date takes its modification time, but no
/// later than `window_days` before `now` (its date starts the next candidate window, which an
/// undated file copied today must not empty).
pub async fn import_issues(
    config: &Config,
    store: &Store,
    files: &[PathBuf],
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<ImportReport, DeskError> {
    let mut report_files = Vec::new();
    let mut issues: Vec<(i64, DateTime<Utc>)> = Vec::new();
    let mut items: Vec<crate::store::CatalogueItem> = Vec::new();
    let mut read_files = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|source| DeskError::Read {
            path: path.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        read_files.push(crate::desk::past_issues::read(
            &String::from_utf8_lossy(&bytes),
            &name,
        ));
    }
    for (path, read) in files.iter().zip(read_files) {
        let Some(number) = read.number else {
            report_files.push(ImportedFile {
                path: path.clone(),
                issue: Err(
                    "no issue number (give it a `# … issue N` title, or name the file issue-N)"
                        .into(),
                ),
                sections: Vec::new(),
            });
            continue;
        };
        let date = read.date.unwrap_or_else(|| {
            let latest = now - chrono::Duration::days(i64::from(config.output.window_days));
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map(DateTime::<Utc>::from)
                .map_or(latest, |m| m.min(latest))
        });
        let mut sections: Vec<(Option<String>, usize)> = Vec::new();
        for item in &read.items {
            let Some(canonical) = url::Url::parse(&item.url)
                .ok()
                .and_then(clean::canonical::canonicalize_url)
            else {
                continue;
            };
            match sections.iter_mut().find(|(s, _)| *s == item.section) {
                Some((_, n)) => *n += 1,
                None => sections.push((item.section.clone(), 1)),
            }
            let host = url::Url::parse(&item.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string));
            items.push(crate::store::CatalogueItem {
                issue: number,
                section: item.section.clone(),
                url: item.url.clone(),
                canonical_url: canonical,
                blurb: item.blurb.clone(),
                features: crate::learn::features(&crate::learn::Source {
                    text: &item.blurb,
                    host: host.as_deref(),
                    ..Default::default()
                }),
            });
        }
        issues.push((number, date));
        report_files.push(ImportedFile {
            path: path.clone(),
            issue: Ok((number, date)),
            sections,
        });
    }
    let links = items
        .iter()
        .map(|i| i.canonical_url.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let added = store
        .import_catalogue(&issues, &items, now, dry_run)
        .await?;
    Ok(ImportReport {
        files: report_files,
        items: items.len(),
        links,
        added,
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_iso_weeks_in_four_digit_years() {
        assert_eq!(
            parse_week("2014-W15").unwrap().to_rfc3339(),
            "2014-04-07T00:00:00+00:00"
        );
        assert_eq!(
            parse_week("2014-w1").unwrap().to_rfc3339(),
            "2013-12-30T00:00:00+00:00"
        );
        for bad in [
            "262143-W01",
            "-262143-W02",
            "-5-W01",
            "+2014-W1",
            "2014-W+1",
            "2014-W001",
            "2014-W54",
            "2014",
            "",
        ] {
            assert!(parse_week(bad).is_err(), "{bad}");
        }
        // The extremes a page may link to (a week either side) stay representable.
        let last = parse_week("9999-W52").unwrap();
        assert_eq!(week_of(last + chrono::Duration::days(7)), "10000-W01");
        let first = parse_week("0000-W01").unwrap();
        assert!(week_of(first - chrono::Duration::days(7)).starts_with('-'));
    }
}
