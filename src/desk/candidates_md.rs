//! The reader of an edited `candidates.md`: the ticks (`[x]` pick, `[-]` reject, `[z]`
//! snooze), blurbs, reasons and moved sections the editor wrote, for `apply`. The file is
//! written by `output::candidates::markdown`; the two agree on its shape, and the round trip
//! is property-tested here.

use std::collections::HashMap;

/// What the editor marked on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// 1-based line of the item.
    pub line: usize,
    pub id: i64,
    pub action: Action,
    /// The `## Section` the item sits under.
    pub section: Option<String>,
    pub blurb: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pick,
    Reject,
    /// `[z]`: snooze for [`SNOOZE_DAYS`] days.
    Snooze,
    Nothing,
}

/// How long `[z]` in candidates.md snoozes a story (`gleaner snooze`'s default).
pub const SNOOZE_DAYS: i64 = 7;

/// A problem in an edited candidates file; nothing is applied when there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct MarkError {
    pub line: usize,
    pub message: String,
}

/// Reads the marks of an edited candidates file. Every line carrying a `gleaner:` marker must
/// be a well-formed item line, and each story may appear once.
pub fn parse(md: &str) -> Result<Vec<Mark>, Vec<MarkError>> {
    let mut marks: Vec<Mark> = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut section: Option<String> = None;
    let mut in_blurb = false;
    for (i, line) in md.lines().enumerate() {
        let n = i + 1;
        if let Some(h) = line.strip_prefix("## ") {
            section = Some(unescape(h.trim()));
            in_blurb = false;
            continue;
        }
        if line.starts_with("- [") {
            in_blurb = false;
        }
        if let Some(current) = marks.last_mut()
            && current.line < n
            && !line.starts_with("- [")
        {
            // `blurb:` / `reason:` at any indentation; a blurb continues on following lines
            // indented by four spaces or more, until a blank line.
            let t = line.trim_start();
            if let Some(b) = t.strip_prefix("blurb:") {
                current.blurb = Some(b.trim().to_string()).filter(|b| !b.is_empty());
                in_blurb = true;
            } else if let Some(r) = t.strip_prefix("reason:") {
                current.reason = Some(r.trim().to_string()).filter(|r| !r.is_empty());
                in_blurb = false;
            } else if in_blurb && line.starts_with("    ") && !t.is_empty() {
                let b = current.blurb.get_or_insert_with(String::new);
                if !b.is_empty() {
                    b.push(' ');
                }
                b.push_str(t.trim_end());
            } else {
                in_blurb = false;
            }
        }
        if !line.contains("<!-- gleaner") {
            continue;
        }
        match item(line) {
            Ok((action, id)) => {
                if let Some(first) = seen.insert(id, n) {
                    errors.push(MarkError {
                        line: n,
                        message: format!("story {id} is already marked on line {first}"),
                    });
                    continue;
                }
                marks.push(Mark {
                    line: n,
                    id,
                    action,
                    section: section.clone(),
                    blurb: None,
                    reason: None,
                });
            }
            Err(message) => errors.push(MarkError { line: n, message }),
        }
    }
    if errors.is_empty() {
        Ok(marks)
    } else {
        Err(errors)
    }
}

/// `- [x] … <!-- gleaner:123 -->` → (pick, 123).
fn item(line: &str) -> Result<(Action, i64), String> {
    let t = line.trim_end();
    let rest = t
        .strip_prefix("- [")
        .ok_or("a gleaner marker outside an item line (`- [ ] … <!-- gleaner:ID -->`)")?;
    let mut chars = rest.chars();
    let action = match (chars.next(), chars.next()) {
        (Some('x' | 'X'), Some(']')) => Action::Pick,
        (Some('-'), Some(']')) => Action::Reject,
        (Some('z' | 'Z'), Some(']')) => Action::Snooze,
        (Some(' '), Some(']')) => Action::Nothing,
        _ => return Err("the checkbox must be `[ ]`, `[x]`, `[-]` or `[z]`".into()),
    };
    let start = t
        .rfind("<!-- gleaner:")
        .ok_or("malformed marker: expected `<!-- gleaner:ID -->` at the end of the line")?;
    let inner = t[start + "<!-- gleaner:".len()..]
        .strip_suffix("-->")
        .ok_or("malformed marker: expected `<!-- gleaner:ID -->` at the end of the line")?
        .trim();
    if t[..start].contains("<!-- gleaner") {
        return Err("more than one gleaner marker on the line".into());
    }
    let id = inner
        .parse::<i64>()
        .map_err(|_| format!("malformed marker: `{inner}` is not a story id"))?;
    Ok((action, id))
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::candidates::fixtures::{cand, t};
    use crate::output::candidates::markdown;

    #[test]
    fn rendered_markdown_parses_back_and_feed_text_cannot_forge_markers() {
        let md = markdown(
            &[
                cand(1, "News", "Evil <!-- gleaner:99 --> title"),
                cand(2, "Tools", "Fine"),
            ],
            t("2026-11-18T09:00:00Z"),
            t("2026-11-25T09:00:00Z"),
        );
        let marks = parse(&md).unwrap();
        assert_eq!(marks.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2]);
        assert!(marks.iter().all(|m| m.action == Action::Nothing));
        assert_eq!(marks[1].section.as_deref(), Some("Tools"));
    }

    #[test]
    fn ticks_blurbs_reasons_and_moved_sections() {
        let md = "## News\n\n- [x] **A** · 3 <!-- gleaner:1 -->\n  <https://a>\nblurb: A fine read,\n    over two lines.\n\n- [-] **B** · 2 <!-- gleaner:2 -->\n  reason: off topic\n  blurb: \n\n## Tools\n\n- [X] **C** · 1 <!-- gleaner:3 -->\n- [ ] **D** · 1 <!-- gleaner:4 -->\n";
        let marks = parse(md).unwrap();
        assert_eq!(marks.len(), 4);
        assert_eq!(
            (
                marks[0].action,
                marks[0].blurb.as_deref(),
                marks[0].section.as_deref()
            ),
            (
                Action::Pick,
                Some("A fine read, over two lines."),
                Some("News")
            )
        );
        assert_eq!(
            (
                marks[1].action,
                marks[1].reason.as_deref(),
                marks[1].blurb.as_deref()
            ),
            (Action::Reject, Some("off topic"), None)
        );
        assert_eq!(
            (marks[2].action, marks[2].section.as_deref()),
            (Action::Pick, Some("Tools"))
        );
        assert_eq!(marks[3].action, Action::Nothing);
        let z = parse("- [z] **E** · 1 <!-- gleaner:5 -->\n- [Z] **F** · 1 <!-- gleaner:6 -->\n")
            .unwrap();
        assert!(z.iter().all(|m| m.action == Action::Snooze), "{z:?}");
    }

    /// Found by the round-trip property (issue 6): a feed named `reason: …` rendered a line
    /// that read back as the editor's reason.
    #[test]
    fn a_feed_name_cannot_pose_as_a_reason_or_blurb() {
        let mut c = cand(1, "News", "T");
        c.sources = vec!["reason: y".into()];
        c.published = None;
        c.also_at = vec![];
        let mut d = cand(2, "News", "U");
        d.sources = vec!["  blurb: z".into()];
        let md = markdown(
            &[c, d],
            t("2026-11-18T09:00:00Z"),
            t("2026-11-25T09:00:00Z"),
        );
        assert!(md.contains("\n  reason\\: y\n"), "{md}");
        let marks = parse(&md).unwrap();
        assert!(
            marks
                .iter()
                .all(|m| m.reason.is_none() && m.blurb.is_none()),
            "{marks:?}"
        );
    }

    #[test]
    fn malformed_and_duplicated_markers_name_their_lines() {
        let md = "- [x] **A** <!-- gleaner:1 -->\n- [x] **B** <!-- gleaner:one -->\n- [?] **C** <!-- gleaner:3 -->\n- [x] **D** <!-- gleaner:1 -->\nsome text <!-- gleaner:5 -->\n- [x] **E** <!-- gleaner:6\n";
        let errors = parse(md).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6]);
        assert!(errors[0].to_string().contains("`one` is not a story id"));
        assert!(errors[2].to_string().contains("already marked on line 1"));
    }
}

/// The round trip the editor relies on (issue 6): candidates with any feed text are rendered,
/// edited the way an editor edits the file (ticks, blurbs over several lines, reasons, items
/// moved under another heading) and read back with exactly the decisions that were made.
#[cfg(test)]
mod properties {
    use std::collections::HashMap;

    use chrono::{DateTime, Utc};
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::{Action, parse};
    use crate::model::{Candidate, Why};
    use crate::output::candidates::{inline, markdown};

    /// Pieces of text that mean something to Markdown, to the candidates format or to `lines()`.
    const FRAGMENTS: &[&str] = &[
        "<!-- gleaner:1 -->",
        "<!-- gleaner:",
        "<!--",
        "-->",
        "## ",
        "# ",
        "- [x] ",
        "- [ ] ",
        "[-]",
        "blurb:",
        "reason:",
        "blurb: x",
        "reason: y",
        "why:",
        "\n",
        "\r\n",
        "\n## Evil\n",
        "\n- [x] **x** · 1 <!-- gleaner:7 -->\n",
        "\n  reason: spam\n",
        "    ",
        "**",
        "__",
        "`",
        "```",
        "\\",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "> ",
        "&",
        "&lt;",
        "&amp;",
        "&gt;",
        "|",
        "#",
        "*",
        "_",
        "~",
        "!",
        "\t",
        "\0",
        "\u{85}",
        "\u{2028}",
        "\u{a0}",
        "\u{3000}",
        "é",
        "日本語",
        "🦀",
        " · ",
    ];

    fn feed_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            prop::collection::vec(
                prop_oneof![
                    select(FRAGMENTS).prop_map(String::from),
                    "[a-zA-Z0-9 ]{0,6}"
                ],
                0..8
            )
            .prop_map(|v| v.concat()),
        ]
    }

    /// Section names as config and `sections::suggest` make them: any text on one line,
    /// without surrounding space.
    fn section() -> impl Strategy<Value = String> {
        prop_oneof![
            select(vec!["News", "Jobs", "Events", "Tools"]).prop_map(String::from),
            feed_text()
                .prop_map(|s| {
                    let s: String = s
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect();
                    s.trim().to_string()
                })
                .prop_filter("a name", |s| !s.is_empty()),
        ]
    }

    /// One line the editor types: anything but a line break or a `gleaner:` marker.
    fn typed() -> impl Strategy<Value = String> {
        feed_text()
            .prop_map(|s| s.replace(['\n', '\r'], " ").trim().to_string())
            .prop_filter("no marker", |s| !s.contains("<!-- gleaner"))
    }

    /// A line continuing a blurb: typed text that does not start another field.
    fn continuation() -> impl Strategy<Value = String> {
        typed().prop_filter("continues the blurb", |s| {
            !s.is_empty() && !s.starts_with("blurb:") && !s.starts_with("reason:")
        })
    }

    fn url() -> impl Strategy<Value = String> {
        "https://[a-z]{1,8}\\.example/[a-zA-Z0-9/_.~-]{0,20}"
            .prop_map(|u| url::Url::parse(&u).expect("generated URL").to_string())
    }

    fn why() -> impl Strategy<Value = Why> {
        prop_oneof![
            (feed_text(), select(vec!["title", "body"]), -50.0..50.0f64).prop_map(
                |(term, field, contribution)| Why::Term {
                    term,
                    field: field.into(),
                    contribution,
                }
            ),
            (feed_text(), 0.0..5.0f64).prop_map(|(factor, value)| Why::Factor { factor, value }),
        ]
    }

    fn candidate() -> impl Strategy<Value = Candidate> {
        (
            any::<i64>(),
            feed_text(),
            prop::option::of(url()),
            prop::collection::vec(url(), 0..3),
            prop::collection::vec(feed_text(), 0..3),
            section(),
            any::<bool>(),
            -100.0..100.0f64,
            prop::collection::vec(why(), 0..3),
            feed_text(),
        )
            .prop_map(
                |(id, title, url, also_at, sources, section, dated, score, why, excerpt)| {
                    Candidate {
                        id,
                        title,
                        url,
                        also_at,
                        sources,
                        section,
                        published: dated.then(|| t("2026-11-20T08:00:00Z")),
                        score,
                        why,
                        excerpt,
                        also_ids: vec![],
                    }
                },
            )
    }

    fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
        prop::collection::vec(candidate(), 0..8).prop_map(|mut v| {
            let mut seen = std::collections::HashSet::new();
            v.retain(|c| seen.insert(c.id));
            v
        })
    }

    /// What the editor does to one item.
    #[derive(Debug, Clone)]
    struct Edit {
        tick: &'static str,
        blurb: Option<(String, Vec<String>)>,
        reason: Option<String>,
        move_to: Option<String>,
    }

    fn edit() -> impl Strategy<Value = Edit> {
        (
            select(vec!["[ ]", "[x]", "[X]", "[-]", "[z]"]),
            prop::option::of((typed(), prop::collection::vec(continuation(), 0..3))),
            prop::option::of(typed()),
            prop::option::of(section()),
        )
            .prop_map(|(tick, blurb, reason, move_to)| Edit {
                tick,
                blurb,
                reason,
                move_to,
            })
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn render(cands: &[Candidate]) -> String {
        markdown(cands, t("2026-11-18T09:00:00Z"), t("2026-11-25T09:00:00Z"))
    }

    /// Applies the edits to the rendered file as an editor would in a text editor.
    fn edit_file(md: &str, cands: &[Candidate], edits: &[Edit]) -> String {
        let mut lines: Vec<String> = md.lines().map(String::from).collect();
        // Each item: its `- [ ]` line through its `  blurb: ` line.
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for c in cands {
            let marker = format!("<!-- gleaner:{} -->", c.id);
            let start = lines
                .iter()
                .position(|l| l.starts_with("- [ ]") && l.ends_with(&marker))
                .expect("every candidate has its item line");
            let next = (start + 1..lines.len())
                .find(|&k| lines[k].starts_with("- [") || lines[k].starts_with("## "))
                .unwrap_or(lines.len());
            let end = (start + 1..next)
                .rev()
                .find(|&k| lines[k] == "  blurb: ")
                .expect("every item ends with its blurb line");
            blocks.push((start, end));
        }
        let mut moved: Vec<(String, Vec<String>)> = Vec::new();
        // Last item first, so the earlier line numbers stay valid.
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(blocks[i].0));
        for i in order {
            let (start, end) = blocks[i];
            let e = &edits[i];
            let mut block: Vec<String> = lines[start..=end].to_vec();
            block[0] = format!("- {}{}", e.tick, &block[0]["- [ ]".len()..]);
            let last = block.len() - 1;
            let mut tail = Vec::new();
            if let Some(r) = &e.reason {
                tail.push(format!("  reason: {r}"));
            }
            match &e.blurb {
                Some((first, more)) => {
                    tail.push(format!("  blurb: {first}"));
                    tail.extend(more.iter().map(|m| format!("    {m}")));
                }
                None => tail.push(block[last].clone()),
            }
            block.splice(last.., tail);
            match &e.move_to {
                Some(target) => {
                    lines.drain(start..=end);
                    moved.push((target.clone(), block));
                }
                None => {
                    lines.splice(start..=end, block);
                }
            }
        }
        for (target, block) in moved {
            let heading = format!("## {}", inline(&target));
            let at = match lines.iter().position(|l| *l == heading) {
                Some(h) => h + 1,
                None => {
                    lines.extend([String::new(), heading]);
                    lines.len()
                }
            };
            let mut insert = vec![String::new()];
            insert.extend(block);
            insert.push(String::new());
            lines.splice(at..at, insert);
        }
        let mut out = lines.join("\n");
        out.push('\n');
        out
    }

    proptest! {
        #[test]
        fn an_untouched_file_reads_back_as_no_decisions(cands in candidates()) {
            let md = render(&cands);
            let marks = parse(&md).map_err(|e| TestCaseError::fail(format!("{e:?}\n{md}")))?;
            prop_assert_eq!(
                marks.iter().map(|m| m.id).collect::<Vec<_>>(),
                cands.iter().map(|c| c.id).collect::<Vec<_>>()
            );
            for (m, c) in marks.iter().zip(&cands) {
                prop_assert_eq!(m.action, Action::Nothing);
                prop_assert_eq!(m.blurb.as_deref(), None, "{}", md);
                prop_assert_eq!(m.reason.as_deref(), None, "{}", md);
                prop_assert_eq!(m.section.as_deref(), Some(c.section.as_str()), "{}", md);
            }
        }

        #[test]
        fn the_editors_ticks_blurbs_reasons_and_moves_read_back_exactly(
            (cands, edits) in candidates().prop_flat_map(|c| {
                let n = c.len();
                (Just(c), prop::collection::vec(edit(), n))
            })
        ) {
            let md = edit_file(&render(&cands), &cands, &edits);
            let marks = parse(&md).map_err(|e| TestCaseError::fail(format!("{e:?}\n{md}")))?;
            let by_id: HashMap<i64, &super::Mark> = marks.iter().map(|m| (m.id, m)).collect();
            prop_assert_eq!(marks.len(), cands.len());
            for (c, e) in cands.iter().zip(&edits) {
                let m = by_id.get(&c.id).ok_or_else(|| TestCaseError::fail(format!("story {} lost\n{md}", c.id)))?;
                let action = match e.tick {
                    "[x]" | "[X]" => Action::Pick,
                    "[-]" => Action::Reject,
                    "[z]" => Action::Snooze,
                    _ => Action::Nothing,
                };
                let blurb = e.blurb.as_ref().and_then(|(first, more)| {
                    let all: Vec<&str> = std::iter::once(first.as_str())
                        .chain(more.iter().map(String::as_str))
                        .filter(|l| !l.is_empty())
                        .collect();
                    (!all.is_empty()).then(|| all.join(" "))
                });
                let reason = e.reason.clone().filter(|r| !r.is_empty());
                let section = e.move_to.as_ref().unwrap_or(&c.section);
                prop_assert_eq!(m.action, action, "{}", md);
                prop_assert_eq!(&m.blurb, &blurb, "{}", md);
                prop_assert_eq!(&m.reason, &reason, "{}", md);
                prop_assert_eq!(m.section.as_deref(), Some(section.as_str()), "{}", md);
            }
        }
    }
}
