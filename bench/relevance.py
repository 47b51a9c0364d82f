#!/usr/bin/env python3
"""The relevance benchmark (issue 15): replays weeks of a DevOps newsletter's feeds through the
real gleaner binary and measures how well `gleaner candidates` serves the editor.

    bench/relevance.py                        # seed 1: weeks 4-6 (dev) and 7-9 (held out), A/B/C
    bench/relevance.py --seed 2               # another world, all held out
    bench/relevance.py --quick                # CI smoke run: weeks 4-5, asserts the measures move
    GLEANER_BIN=target/debug/gleaner bench/relevance.py --configs C --weeks 4-9

Standard library only (Python 3.11).  The fixtures come from bench/weeks.py (deterministic per
--seed): ~60 feeds, 145-170 stories a week with vendor posts stuffed with the profile's words,
off-topic news, job spam, patch releases, and the editor's 14 picks labelled (8 News, 3 Tools,
2 Events, 1 Jobs).  Weeks 1-3 are the back catalogue (issue-1.md, issue-2.md in the shape
`gleaner draft` writes, issue-3.html as a sent e-mail); weeks 4-9 are replayed.

Each configuration gets a fresh database and replays the weeks in order.  For week w, with
GLEANER_NOW at its Sunday 18:00 UTC (the editor's last evening), the feeds serve their latest 20
stories (an in-process HTTP server on 127.0.0.1), `gleaner poll` runs, then:
  * recall@20: how many of the week's picks are in the first 20 of `gleaner candidates --json`
    (ranked by score, all sections), before any decision of that week;
  * effort: a simulated editor walks that list from the top, `gleaner pick`s each labelled pick
    (with its section) and `gleaner reject`s everything else, asks for the list again after
    every 5 decisions, and counts the items examined until every pick was found ("-" if the
    list ran dry first: a pick was never shown); a pick listed "also at" under another link
    is found there, and an item holding several picks (gleaner grouped them as
    near-duplicates) finds them all;
  * then `gleaner publish` closes the week (its picks become used links, the next window
    starts there).
Configurations (all with the [keywords] of the repository's feeds.toml, written before the
fixtures, and default settings otherwise):
  A  keywords only           [learning] enabled = false
  B  + decisions             learning on: every pick and reject of the earlier weeks, and of
                             this week as the walk goes
  C  + back catalogue        B, after `gleaner import issues issue-1.md issue-2.md issue-3.html`
Two references that are not gleaner: "count" ranks by a naive count of the profile's keywords
in title and text (what the issue compares against), and "oracle" by how often the hidden
editor would pick each story over many draws of the week's mood: the best any ranking of these
stories could do.

Weeks 4-6 are the development weeks (weights were chosen on them); 7-9 are held out and
reported apart; other seeds are held out entirely.  Results: a table on stdout and
--out (default bench/relevance-results-seed<S>.json).
"""

import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weeks as W  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Docs:
    """What the in-process server serves: slug -> bytes, swapped per week."""

    def __init__(self):
        self.docs = {}
        self.lock = threading.Lock()

    def set(self, docs):
        with self.lock:
            self.docs = docs

    def get(self, slug):
        with self.lock:
            return self.docs.get(slug)


def serve(docs):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = docs.get(self.path.strip("/").removesuffix(".xml"))
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def keywords():
    with open(os.path.join(ROOT, "feeds.toml"), "rb") as f:
        return tomllib.load(f)["keywords"]


def toml_str(s):
    return json.dumps(s)


def write_config(path, port, feeds, learning):
    lines = ["[storage]", 'path = "gleaner.db"', "[fetch]", 'host_delay = "0s"', "per_host = 16",
             "concurrency = 16", "[keywords]"]
    lines += [f"{toml_str(k)} = {v}" for k, v in keywords().items()]
    lines += ["[learning]", f"enabled = {'true' if learning else 'false'}", "[output]", 'dir = "out"']
    for f in feeds:
        lines += ["[[feeds]]", f"name = {toml_str(f.name)}",
                  f'url = "http://127.0.0.1:{port}/{f.slug}.xml"']
        if f.section:
            lines.append(f"section = {toml_str(f.section)}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


class Gleaner:
    def __init__(self, binary, work):
        self.binary, self.work, self.calls = binary, work, 0

    def __call__(self, now, *args, check=True):
        self.calls += 1
        env = dict(os.environ, GLEANER_NOW=now.strftime("%Y-%m-%dT%H:%M:%SZ"), RUST_LOG="off")
        p = subprocess.run([self.binary, *args], cwd=self.work, env=env, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise SystemExit(f"gleaner {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
        return p

    def candidates(self, now):
        return json.loads(self(now, "candidates", "--json").stdout)


def norm(url):
    """Matches a candidate's url to a fixture's (gleaner may canonicalize it)."""
    return re.sub(r"[?#].*$", "", url).rstrip("/").lower()


def profile_terms():
    out = []
    for k, v in keywords().items():
        k = k.lower()
        pat = re.escape(k.rstrip("*")).replace(r"\ ", r"[\s\-]+").replace(r"\-", r"[\s\-]+")
        out.append((re.compile(r"\b" + pat + (r"\w*" if k.endswith("*") else r"\b"), re.I), v))
    return out


def count_rank(stories, terms):
    """The naive script: keyword hits (weight × count) in title and text."""
    def score(s):
        text = s.title + " " + s.body
        return sum(v * len(p.findall(text)) for p, v in terms)
    return sorted(stories, key=lambda s: (-score(s), s.published))


def oracle_rank(stories):
    """By how often the editor would pick each story over many draws of the week's mood (the
    hidden model, section quotas included): an upper bound for any ranking."""
    odds = W.pick_odds(stories)
    return sorted(stories, key=lambda s: -odds[s.id])


def walk(g, now, picks, first):
    """The simulated editor: returns (examined, found)."""
    want = {norm(s.url): s for s in picks}
    examined, found, decisions, seen, taken = 0, 0, 0, set(), set()
    lst = first
    while found < len(want):
        item = next((c for c in lst if c["id"] not in seen), None)
        if item is None:
            # The list ran out between refreshes (it holds per_section items a section): ask
            # again; if nothing new comes, a pick was never shown.
            lst = g.candidates(now)
            item = next((c for c in lst if c["id"] not in seen), None)
            if item is None:
                break
        seen.add(item["id"])
        examined += 1
        # gleaner groups near-duplicates: a pick may be listed "also at" another link, and one
        # item may hold several picks (the editor sees every link of it).
        hits = [want[u] for u in dict.fromkeys(map(norm, [item["url"], *item.get("also_at", [])]))
                if u in want and u not in taken]
        if os.environ.get("RELEVANCE_TRACE"):
            print(f"    {examined:3d} {'PICK' if hits else '    '} {item['score']:6.1f} {item['section'][:5]:5} "
                  f"{item['title'][:60]}", file=sys.stderr)
        if hits:
            taken.update(norm(s.url) for s in hits)
            g(now, "pick", str(item["id"]), "--section", hits[0].section)
            found += len(hits)
        else:
            g(now, "reject", str(item["id"]))
        decisions += 1
        if decisions % 5 == 0:
            lst = g.candidates(now)
    missing = [s for u, s in want.items() if u not in taken]
    for s in missing:
        print(f"    never shown: {s.section} {s.title!r} {s.url} ({s.feed}, {s.published:%a %H:%M})",
              file=sys.stderr)
    return examined, found


def run_config(name, binary, feeds_, weeks_, replay, catalogue, learning, keep):
    work = tempfile.mkdtemp(prefix=f"gleaner-relevance-{name}-")
    docs = Docs()
    srv = serve(docs)
    try:
        write_config(os.path.join(work, "feeds.toml"), srv.server_address[1], feeds_, learning)
        g = Gleaner(binary, work)
        number = 0
        if catalogue:
            files = W.past_issues(weeks_, upto=replay[0] - 1)
            for fname, text in files.items():
                with open(os.path.join(work, fname), "w") as fh:
                    fh.write(text)
            out = g(W.week_end(replay[0] - 1) + W.dt.timedelta(hours=2), "import", "issues", *sorted(files))
            number = replay[0] - 1
            print(f"  [{name}] {out.stdout.strip().splitlines()[-1]}", file=sys.stderr)
        rows = []
        for w in replay:
            now = W.week_end(w)
            served = W.served(feeds_, weeks_, w)
            by = {f.slug: f for f in feeds_}
            docs.set({slug: W.feed_xml(by[slug], st, "").encode() for slug, st in served.items()})
            g(now, "poll")
            # The editor sits down a few minutes after the poll (so `--as-of` the poll's time
            # replays the list as it was before any decision of the week).
            now = now + W.dt.timedelta(minutes=5)
            t0 = time.monotonic()
            first = g.candidates(now)
            picks = [s for s in weeks_[w] if s.pick]
            top = {norm(u) for c in first[:20] for u in [c["url"], *c.get("also_at", [])]}
            listed = {norm(u) for c in first for u in [c["url"], *c.get("also_at", [])]}
            recall = sum(norm(s.url) in top for s in picks)
            shown = sum(norm(s.url) in listed for s in picks)
            examined, found = walk(g, now, picks, first)
            number += 1
            g(now + W.dt.timedelta(minutes=25), "publish", str(number))
            rows.append(dict(week=w, picks=len(picks), recall20=recall, listed=shown, effort=examined,
                             found=found, seconds=round(time.monotonic() - t0, 2)))
            print(f"  [{name}] week {w}: recall@20 {recall}/{len(picks)}, effort "
                  f"{examined if found == len(picks) else '-'} ({found} found)", file=sys.stderr)
        return dict(config=name, weeks=rows, calls=g.calls)
    finally:
        srv.shutdown()
        if keep:
            print(f"  [{name}] kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def references(feeds_, weeks_, replay):
    terms = profile_terms()
    by = {f.slug: f for f in feeds_}
    out = {"count": [], "oracle": []}
    for w in replay:
        pool = [s for s in weeks_[w]]
        picks = {s.id for s in pool if s.pick}
        for name, ranked in [("count", count_rank(pool, terms)), ("oracle", oracle_rank(pool))]:
            out[name].append(dict(week=w, picks=len(picks), recall20=sum(s.id in picks for s in ranked[:20])))
    return out


def parse_weeks(s):
    a, _, b = s.partition("-")
    return list(range(int(a), int(b or a) + 1))


def summary(rows, weeks_):
    rs = [r for r in rows if r["week"] in weeks_]
    if not rs:
        return ""
    rec = sum(r["recall20"] for r in rs) / sum(r["picks"] for r in rs)
    done = [r for r in rs if r.get("found", r["picks"]) == r["picks"] and "effort" in r]
    eff = (sum(r["effort"] for r in done) / len(done)) if done else None
    return f"{100 * rec:.0f}%" + (f" / {eff:.1f}" if eff is not None else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--weeks", default="4-9", help="replayed weeks (the back catalogue is the weeks before)")
    ap.add_argument("--dev", default="4-6", help="the weeks weights were chosen on (the rest are held out)")
    ap.add_argument("--configs", default="A,B,C")
    ap.add_argument("--quick", action="store_true", help="weeks 4-5, configs A and C; fails if C does not beat A")
    ap.add_argument("--keep", action="store_true", help="keep the work directories")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    binary = os.environ.get("GLEANER_BIN", os.path.join(ROOT, "target/release/gleaner"))
    if not os.path.exists(binary):
        raise SystemExit(f"no gleaner binary at {binary} (cargo build --release, or set GLEANER_BIN)")
    replay = parse_weeks("4-5" if a.quick else a.weeks)
    configs = ["A", "C"] if a.quick else a.configs.split(",")
    dev = set(parse_weeks(a.dev)) if a.seed == 1 else set()
    feeds_, weeks_ = W.generate(a.seed, max(replay))
    t0 = time.monotonic()
    results = {}
    for c in configs:
        results[c] = run_config(c, binary, feeds_, weeks_, replay, catalogue=(c == "C"),
                                learning=(c != "A"), keep=a.keep)
    refs = references(feeds_, weeks_, replay)
    held = [w for w in replay if w not in dev]
    names = {"A": "A keywords only", "B": "B + decisions", "C": "C + back catalogue"}
    print(f"seed {a.seed}; weeks {replay[0]}-{replay[-1]}; dev weeks {sorted(dev) or 'none'}; "
          f"{time.monotonic() - t0:.0f} s")
    print()
    print("| configuration | " + " | ".join(f"week {w}" for w in replay) + " | dev | held out |")
    print("|---|" + "---|" * len(replay) + "---|---|")
    for c in configs:
        rows = results[c]["weeks"]
        cells = [f"{r['recall20']}/{r['picks']}, {r['effort'] if r['found'] == r['picks'] else '-'}"
                 for r in rows]
        print(f"| {names.get(c, c)} | " + " | ".join(cells) + f" | {summary(rows, dev)} | {summary(rows, held)} |")
    for name in ["count", "oracle"]:
        rows = refs[name]
        label = {"count": "naive keyword count (recall only)", "oracle": "oracle: the editor's pick odds (recall only)"}[name]
        print(f"| {label} | " + " | ".join(f"{r['recall20']}/{r['picks']}" for r in rows)
              + f" | {summary(rows, dev)} | {summary(rows, held)} |")
    print()
    print("cells: picks in the top 20 of the week's first list / picks, items examined to find them all "
          "('-': a pick never shown); dev and held out: recall@20 / mean effort")
    out = a.out or os.path.join(ROOT, "bench", f"relevance-results-seed{a.seed}.json")
    if not a.quick:
        with open(out, "w") as fh:
            json.dump(dict(seed=a.seed, replay=replay, dev=sorted(dev), results=results, references=refs),
                      fh, indent=1)
    if a.quick:
        ra = sum(r["recall20"] for r in results["A"]["weeks"])
        rc = sum(r["recall20"] for r in results["C"]["weeks"])
        ea = sum(r["effort"] for r in results["A"]["weeks"])
        ec = sum(r["effort"] for r in results["C"]["weeks"])
        if not (rc > ra and ec < ea):
            raise SystemExit(f"learning did not help: recall@20 A {ra} C {rc}, effort A {ea} C {ec}")
        print(f"quick: recall@20 A {ra} -> C {rc}, effort A {ea} -> C {ec}")


if __name__ == "__main__":
    main()
