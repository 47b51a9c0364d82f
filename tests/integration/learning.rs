//! Issue 15 through the real binary: decisions re-rank the next `candidates` call, past issues
//! are imported (ledger and examples), `[learning]` weighs or turns it off. Every run is at a
//! fixed `GLEANER_NOW`, so the week is the same whenever the test runs.

use std::process::Output;

use serde_json::Value;

use crate::support::{Route, Server, Workspace, stderr, stdout};

/// An RSS document with `(guid, title, link, description, RFC 2822 date)` items.
/// `(guid, title, link, description, date)`.
type Item = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn feed(title: &str, items: &[Item]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title><link>https://example.com/</link>\n"
    );
    for (guid, t, link, desc, date) in items {
        s.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{t}</title><link>{link}</link><description><![CDATA[{desc}]]></description><pubDate>{date}</pubDate></item>\n"
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// Runs gleaner in `ws` as if it were `now`.
fn at(ws: &Workspace, now: &str, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .current_dir(ws.dir.path())
        .env("RUST_LOG", "off")
        .env("GLEANER_NOW", now)
        .output()
        .unwrap()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    o
}

fn candidates(ws: &Workspace, now: &str) -> Vec<Value> {
    let o = ok(at(ws, now, &["candidates", "--json"]));
    serde_json::from_slice::<Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The candidate whose title contains `title`.
fn find<'a>(list: &'a [Value], title: &str) -> Option<&'a Value> {
    list.iter()
        .find(|c| c["title"].as_str().unwrap_or("").contains(title))
}

fn get<'a>(list: &'a [Value], title: &str) -> &'a Value {
    find(list, title).unwrap_or_else(|| panic!("{title} not in {list:#?}"))
}

fn score(list: &[Value], title: &str) -> f64 {
    get(list, title)["score"].as_f64().unwrap()
}

fn rank(list: &[Value], title: &str) -> usize {
    list.iter()
        .position(|c| c["title"].as_str().unwrap_or("").contains(title))
        .unwrap_or_else(|| panic!("{title} not in {list:#?}"))
}

fn why(c: &Value) -> Vec<String> {
    c["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            w["factor"]
                .as_str()
                .or_else(|| w["term"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The list is ranked by `score`, highest first.
fn assert_ranked(list: &[Value]) {
    let scores: Vec<f64> = list.iter().map(|c| c["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "not ranked by score: {scores:?}"
    );
}

/// When the feeds were polled, and (later) when the editor decides.
const POLLED: &str = "2014-04-08T12:00:00Z";
const NOW: &str = "2014-04-08T18:00:00Z";
const MON: &str = "Mon, 07 Apr 2014 09:00:00 GMT";
const TUE: &str = "Tue, 08 Apr 2014 09:00:00 GMT";
/// Before the week: what the feeds brought that nobody picked.
const OLD: &str = "Thu, 27 Mar 2014 09:00:00 GMT";

/// A story with none of the keywords that is worth picking (a chaos toolkit), office news,
/// and one office post dated `older` (before the window: an unpicked story).
fn toolkit_and_office(older: &'static str) -> [Item; 4] {
    [
        (
            "c2",
            "A toolkit for running a chaos game day",
            "https://tools.example/chaos-kit",
            "<p>An open source toolkit to plan a chaos game day: scenarios, roles, a runbook.</p>",
            TUE,
        ),
        (
            "o1",
            "New chairs in the office",
            "https://corp.example/chairs",
            "<p>The office got new chairs and a coffee machine.</p>",
            MON,
        ),
        (
            "o2",
            "Quarterly marketing update",
            "https://corp.example/marketing",
            "<p>Marketing numbers for the quarter and the new brand colours.</p>",
            TUE,
        ),
        (
            "b1",
            "Office plants and the new coffee",
            "https://corp.example/plants",
            "<p>Plants, coffee and the brand refresh in the office.</p>",
            older,
        ),
    ]
}

/// A week with vendor pitches that repeat the profile's words, real posts, and posts with
/// none of the keywords (a chaos game day write-up, office news).
fn week() -> String {
    feed(
        "Mixed",
        &[
            (
                "v1",
                "5 reasons your company needs our Kubernetes platform",
                "https://vendor.example/reasons",
                "<p>Kubernetes made simple: buy the Kubernetes platform enterprises trust. Request a demo of our Kubernetes suite.</p>",
                MON,
            ),
            (
                "v2",
                "Why enterprises need our Kubernetes suite: request a demo",
                "https://vendor.example/suite",
                "<p>Our Kubernetes suite for enterprises. Request a demo of the platform today.</p>",
                MON,
            ),
            (
                "k1",
                "Upgrading Kubernetes without downtime",
                "https://eng.example/upgrade",
                "<p>How our team moved forty clusters to a new Kubernetes version.</p>",
                TUE,
            ),
            (
                "c1",
                "Our first chaos game day",
                "https://ops.example/game-day",
                "<p>We broke the payment service on purpose during a chaos game day and wrote down what failed.</p>",
                MON,
            ),
        ]
        .into_iter()
        .chain(toolkit_and_office(OLD))
        .chain([
            (
                "b2",
                "Marketing offsite recap",
                "https://corp.example/offsite",
                "<p>The marketing team met for two days to talk about the brand.</p>",
                OLD,
            ),
        ])
        .collect::<Vec<_>>(),
    )
}

fn setup(learning: &str) -> (Server, Workspace) {
    let server = Server::start();
    let ws = Workspace::new();
    let url = server.route("/feed", Route::feed(week()));
    ws.write_config("", &[("Mixed", &url)]);
    let mut config = std::fs::read_to_string(ws.config_path()).unwrap();
    config.push_str(&format!(
        "\n[keywords]\nkubernetes = 3\n[output]\nwindow_days = 7\n{learning}\n"
    ));
    ws.write_config_text(&config);
    ok(at(&ws, POLLED, &["poll"]));
    (server, ws)
}

#[test]
fn a_decision_reranks_the_next_candidates_call_and_why_says_what_was_learned() {
    let (_server, ws) = setup("");
    let before = candidates(&ws, NOW);
    assert_ranked(&before);
    // Keywords alone: the pitches win, the game day write-ups score nothing.
    assert!(rank(&before, "5 reasons") < rank(&before, "Upgrading Kubernetes"));
    assert_eq!(
        score(&before, "A toolkit for running a chaos game day"),
        0.0
    );
    assert!(
        !why(get(&before, "5 reasons"))
            .iter()
            .any(|f| f.starts_with("learned")),
        "no decision yet, nothing learned: {before:#?}"
    );
    // Inside the window a story's day does not matter: Monday and Tuesday posts with the
    // same keyword score are not ranked by date.
    let id = |list: &[Value], t: &str| get(list, t)["id"].as_i64().unwrap().to_string();

    ok(at(
        &ws,
        NOW,
        &[
            "reject",
            &id(&before, "5 reasons"),
            "--reason",
            "vendor pitch",
        ],
    ));
    let after_reject = candidates(&ws, NOW);
    assert_ranked(&after_reject);
    assert!(find(&after_reject, "5 reasons").is_none());
    // The other pitch shares the rejected one's words ("enterprises", "request a demo",
    // "suite", the host): it falls, and below the real post now.
    assert!(
        score(&after_reject, "Why enterprises need") < score(&before, "Why enterprises need"),
        "{after_reject:#?}"
    );
    assert!(
        rank(&after_reject, "Upgrading Kubernetes") < rank(&after_reject, "Why enterprises need"),
        "{after_reject:#?}"
    );
    let pitch = why(get(&after_reject, "Why enterprises need"));
    assert!(
        pitch.iter().any(|f| f == "learned from your decisions"),
        "{pitch:?}"
    );
    assert!(
        pitch.iter().any(|f| f.starts_with("learned: ")),
        "{pitch:?}"
    );

    ok(at(
        &ws,
        NOW,
        &["pick", &id(&after_reject, "Our first chaos")],
    ));
    let after_pick = candidates(&ws, NOW);
    assert_ranked(&after_pick);
    // A story with none of the keywords, like the pick, now scores and is ranked above the
    // office news.
    let kit = get(&after_pick, "A toolkit for running a chaos game day");
    assert!(kit["score"].as_f64().unwrap() > 0.0, "{kit:#}");
    for office in ["New chairs", "Quarterly marketing"] {
        assert!(
            rank(&after_pick, "A toolkit") < rank(&after_pick, office),
            "{after_pick:#?}"
        );
    }
    let reasons = why(kit);
    assert!(
        reasons
            .iter()
            .any(|f| f.contains("\u{201c}chaos\u{201d}") || f.contains("game")),
        "the features that moved it are named: {reasons:?}"
    );
    // explain shows the learned part too.
    let explained = stdout(&ok(at(
        &ws,
        NOW,
        &["explain", &kit["id"].as_i64().unwrap().to_string()],
    )));
    assert!(explained.contains("learned"), "{explained}");
    // The same call again gives the same list: deterministic.
    assert_eq!(candidates(&ws, NOW), after_pick);
    // And `--as-of` before the decisions is the list as it was then.
    let earlier = candidates_as_of(&ws, "2014-04-08T15:00:00Z");
    assert!(find(&earlier, "5 reasons").is_some());
    assert!(
        !why(get(&earlier, "Why enterprises need"))
            .iter()
            .any(|f| f.starts_with("learned")),
        "{earlier:#?}"
    );
}

fn candidates_as_of(ws: &Workspace, as_of: &str) -> Vec<Value> {
    let o = ok(at(ws, NOW, &["candidates", "--json", "--as-of", as_of]));
    serde_json::from_slice::<Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn learning_can_be_weighed_or_turned_off() {
    let scores_after_reject = |learning: &str| {
        let (_server, ws) = setup(learning);
        let before = candidates(&ws, NOW);
        let id = get(&before, "5 reasons")["id"]
            .as_i64()
            .unwrap()
            .to_string();
        ok(at(&ws, NOW, &["reject", &id]));
        let after = candidates(&ws, NOW);
        (
            score(&before, "Why enterprises need"),
            score(&after, "Why enterprises need"),
            why(get(&after, "Why enterprises need")),
            stdout(&ok(at(&ws, NOW, &["check"]))),
        )
    };
    let (before, off, off_why, off_check) = scores_after_reject("[learning]\nenabled = false");
    assert_eq!(before, off, "off: a reject changes no score");
    assert!(!off_why.iter().any(|f| f.starts_with("learned")));
    assert!(off_check.contains("learning: off"), "{off_check}");
    let (_, full, _, on_check) = scores_after_reject("");
    assert!(on_check.contains("learning: on, weight 1"), "{on_check}");
    let (_, half, _, _) = scores_after_reject("[learning]\nweight = 0.5");
    // Half the weight, about half the move (scores are rounded to two decimals).
    assert!(full < half && half < before, "{before} {half} {full}");
    assert!(
        ((before - half) * 2.0 - (before - full)).abs() < 0.05,
        "{before} {half} {full}"
    );
    // A negative weight is a config error, reported with its place.
    let ws = Workspace::new();
    ws.write_config("", &[("A", "http://127.0.0.1:9/feed")]);
    let mut config = std::fs::read_to_string(ws.config_path()).unwrap();
    config.push_str("\n[learning]\nweight = -1\n");
    ws.write_config_text(&config);
    let o = ws.gleaner(&["check"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(stderr(&o).contains("weight"), "{}", stderr(&o));
}

/// A past issue as `gleaner draft` writes it, from a workspace where the editor picked it.
fn drafted_issue() -> String {
    let server = Server::start();
    let ws = Workspace::new();
    let url = server.route(
        "/feed",
        Route::feed(feed(
            "Last week",
            &[
                (
                    "p1",
                    "Game day at Acme",
                    "https://ops.example/acme-game-day?utm_source=rss",
                    "<p>Acme's chaos game day.</p>",
                    "Mon, 31 Mar 2014 09:00:00 GMT",
                ),
                (
                    "p2",
                    "Hiring: platform engineer",
                    "https://jobs.example/platform",
                    "<p>A job.</p>",
                    "Mon, 31 Mar 2014 10:00:00 GMT",
                ),
            ],
        )),
    );
    ws.write_config("", &[("Last week", &url)]);
    let then = "2014-04-01T18:00:00Z";
    ok(at(&ws, then, &["poll"]));
    let list = candidates(&ws, then);
    for (title, section, blurb) in [
        (
            "Game day",
            "Tools",
            "Acme ran a chaos game day against their payment cluster and wrote down what failed. A good template for your own game day.",
        ),
        (
            "Hiring",
            "Jobs",
            "A platform engineer role for someone who likes on-call rotations.",
        ),
    ] {
        let id = get(&list, title)["id"].as_i64().unwrap().to_string();
        ok(at(
            &ws,
            then,
            &["pick", &id, "--section", section, "--blurb", blurb],
        ));
    }
    ok(at(&ws, then, &["draft", "--issue", "41"]));
    std::fs::read_to_string(ws.path("out/issue-41.md")).unwrap()
}

#[test]
fn imported_issues_fill_the_ledger_and_teach_the_ranking() {
    let draft = drafted_issue();
    assert!(draft.contains("issue 41"), "{draft}");
    let server = Server::start();
    let ws = Workspace::new();
    let mut items = vec![(
        "again",
        "Roundup: Acme's game day",
        "https://ops.example/acme-game-day",
        "<p>Worth reading again.</p>",
        MON,
    )];
    items.extend(toolkit_and_office("Thu, 20 Mar 2014 09:00:00 GMT"));
    let url = server.route("/feed", Route::feed(feed("This week", &items)));
    ws.write_config("", &[("This week", &url)]);
    ok(at(&ws, NOW, &["poll"]));
    std::fs::write(ws.path("issue-41.md"), &draft).unwrap();
    // A sent issue's HTML, with what mail tools put around it.
    std::fs::write(
        ws.path("issue-40.html"),
        r#"<!DOCTYPE html><html><body>
<p><a href="https://mail.example/view/40">View in browser</a></p>
<h1>DevOps Weekly: issue 40</h1><p>Sunday 23 March 2014</p>
<h2>News</h2>
<p>Notes from a chaos engineering game day at a bank, with the scenarios they ran.<br>
<a href="https://bank.example/game-day">https://bank.example/game-day</a></p>
<h2>Tools</h2>
<ul><li><a href="https://github.com/example/kit">kit</a>: a tiny chaos toolkit for game days.</li></ul>
<p><a href="https://mail.example/unsubscribe?u=1">Unsubscribe</a> | <a href="https://mail.example/prefs">Update your preferences</a></p>
</body></html>"#,
    )
    .unwrap();
    std::fs::write(ws.path("notes.md"), "Just some notes.\n").unwrap();

    let before = candidates(&ws, NOW);
    assert!(find(&before, "Roundup").is_some());
    assert_eq!(score(&before, "A toolkit"), 0.0);

    // A dry run says what it would add and writes nothing.
    let files = ["import", "issues", "issue-41.md", "issue-40.html"];
    let dry = stdout(&ok(at(&ws, NOW, &[&files[..], &["--dry-run"]].concat())));
    assert!(dry.contains("would add 2 issues, 4 links"), "{dry}");
    assert!(dry.contains("dry run"), "{dry}");
    assert_eq!(candidates(&ws, NOW), before);

    let out = stdout(&ok(at(&ws, NOW, &files)));
    assert!(
        out.contains("issue-41.md: issue 41 of 2014-04-01, 2 items (Jobs 1, Tools 1)"),
        "{out}"
    );
    assert!(
        out.contains("issue-40.html: issue 40 of 2014-03-23, 2 items (News 1, Tools 1)"),
        "mail furniture is not an item: {out}"
    );
    assert!(
        out.contains("2 issues, 4 items, 4 distinct links; added 2 issues, 4 links"),
        "{out}"
    );
    let after = candidates(&ws, NOW);
    assert_ranked(&after);
    // The link of issue 41, even without its tracking parameter, is never suggested again.
    assert!(find(&after, "Roundup").is_none(), "{after:#?}");
    // The blurbs taught the ranking: the toolkit (none of the keywords, like the office news
    // it tied with) now leads the office news, by the words it shares with the blurbs.
    let kit = get(&after, "A toolkit");
    for office in ["New chairs", "Quarterly marketing"] {
        assert!(
            score(&after, "A toolkit") > score(&after, office),
            "{office}: {after:#?}"
        );
        assert!(rank(&after, "A toolkit") < rank(&after, office));
    }
    assert!(
        kit["why"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["factor"] == "learned: \u{201c}chaos\u{201d}"
                && f["value"].as_f64().unwrap() > 0.0),
        "{kit:#}"
    );
    assert!(
        why(kit).iter().any(|f| f == "learned from your decisions"),
        "{kit:#}"
    );

    // Again: nothing new.
    let again = stdout(&ok(at(&ws, NOW, &files)));
    assert!(
        again.contains(
            "added 0 issues, 0 links to the ledger (never suggested again) and 0 examples"
        ),
        "{again}"
    );
    assert_eq!(candidates(&ws, NOW), after);

    // A file with no issue number is reported, not guessed; a missing file is an error.
    let notes = stdout(&ok(at(&ws, NOW, &["import", "issues", "notes.md"])));
    assert!(
        notes.contains("notes.md: skipped: no issue number"),
        "{notes}"
    );
    let missing = at(&ws, NOW, &["import", "issues", "nope.md"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("nope.md"), "{}", stderr(&missing));

    // An undated issue (the file was written today, years after NOW) is dated no later than
    // window_days before now: it does not empty this week's candidate window.
    std::fs::write(
        ws.path("issue-39.md"),
        "# Issue 39\n\n## News\n\nA game day write-up.\n\nhttps://old.example/game-day\n",
    )
    .unwrap();
    let undated = stdout(&ok(at(&ws, NOW, &["import", "issues", "issue-39.md"])));
    assert!(
        undated.contains("issue-39.md: issue 39 of 2014-04-01, 1 item (News 1)"),
        "{undated}"
    );
    let still = candidates(&ws, NOW);
    assert!(find(&still, "A toolkit").is_some(), "{still:#?}");
}
