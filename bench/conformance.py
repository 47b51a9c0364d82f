#!/usr/bin/env python3
"""How well gleaner reads feeds, measured against feedparser's own test expectations (issue 14).

Usage (Python 3.11 and feedparser 6.0.14 from PyPI, which reads every file beside gleaner; exit
status 3 without it):

    python3 bench/conformance.py                       # the figure, by folder
    python3 bench/conformance.py --failures            # and every failing case with what gleaner read
    python3 bench/conformance.py --min-entries 97      # exit 1 below 97 % (CI)
    GLEANER_BIN=target/release/gleaner GLEANER_CORPORA=../shared/corpora python3 bench/conformance.py

What it does
  * Reads `feedparser/INDEX.tsv` from the corpora (GLEANER_CORPORA, default ../shared/corpora):
    every test file with its `Expect:` line, a Python expression over feedparser's result, and
    the HTTP headers it simulates.
  * Decides which cases are *entry-level and applicable*: the expression's top-level `and`
    terms that read `entries` are kept, the others (`bozo`, `encoding`, `feed[...]`, …: things
    gleaner does not report as feedparser does) are dropped; a case is applicable when what
    remains reads only entry fields gleaner exposes: title, link, description/summary,
    content (its value), title_detail and summary_detail (their
    value), published/updated (and their *_parsed forms), author (and
    author_detail's name), or the number of entries. Anything else (tags, enclosures, ids,
    *_detail types, languages, itunes:*, …) makes the case "entry-level, not applicable".
  * Runs `gleaner inspect --json FILE` once per file, as a poll would read it: the
    Content-Type header the case simulates, and as base the Content-Location header or the
    address feedparser's own suite served the file from (http://127.0.0.1:8097/tests/PATH).
  * Builds, from gleaner's output, the entries feedparser would have, and evaluates the kept
    terms with Python's eval. Comparisons follow what gleaner stores, not how it is spelled:
      - HTML (summary, content) is compared as parsed markup: tag and attribute names, sorted
        attributes, decoded text and attribute values, whitespace runs as one space; the
        attributes gleaner's policy adds (rel="noopener noreferrer" on links, loading="lazy"
        on images) are not counted;
      - titles are plain text in gleaner: where feedparser keeps a title as HTML
        (title_detail.type text/html), its expected value is compared by its text;
      - dates are instants: an expected date *string* is compared by the instant feedparser's
        own date parser reads from it;
      - gleaner keeps an author's name: where feedparser's author string is "name (email)",
        the expected value is compared with feedparser's own author_detail.name;
      - a summary beside a separate body is, in gleaner, the plain-text excerpt: it is
        compared by text (and as a prefix when gleaner cut the excerpt at 300 characters).
  * Cases listed in bench/conformance-policy.tsv are failures on purpose (the sanitizer removes
    markup that feedparser keeps, …): they are reported apart, with their reason, and still
    count as failures in the figure.

Nothing here is timed; it is a correctness figure. It prints a table and, with --json FILE,
writes every case's result.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import concurrent.futures
import html
import html.parser
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXPOSED = {
    "title",
    "link",
    "description",
    "summary",
    "content",
    "published",
    "published_parsed",
    "updated",
    "updated_parsed",
    "issued",
    "issued_parsed",
    "modified",
    "modified_parsed",
    "date",
    "date_parsed",
    "author",
    "author_detail",
    "title_detail",
    "summary_detail",
}
# Second-level keys that are exposed under a first-level one.
EXPOSED_SUB = {
    "content": {"value"},
    "author_detail": {"name"},
    "title_detail": {"value"},
    "summary_detail": {"value"},
}
DATE_ALIASES = {
    "issued": "published",
    "modified": "updated",
    "date": "updated",
}
SUITE_BASE = "http://127.0.0.1:8097/tests/"


# --- reading the cases -------------------------------------------------------------------


def read_index(corpora: Path) -> list[dict]:
    rows = []
    lines = (corpora / "feedparser" / "INDEX.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        parts = line.split("\t")
        while len(parts) < 4:
            parts.append("")
        path, description, expect, headers = parts[:4]
        rows.append(
            {"path": path, "description": description, "expect": expect, "headers": headers}
        )
    return rows


def parse_headers(raw: str) -> dict[str, str]:
    """INDEX.tsv keeps a case's simulated headers on one line: `Name: value` pairs."""
    out: dict[str, str] = {}
    if not raw.strip():
        return out
    # Headers are separated by " | " or newlines escaped as "\n" in some rows.
    for part in re.split(r"\s*\|\s*|\\n", raw):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out


def conjuncts(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        out = []
        for v in node.values:
            out.extend(conjuncts(v))
        return out
    return [node]


def key_of(node: ast.AST) -> str | int | None:
    if isinstance(node, ast.Constant):
        return node.value
    return None


def entry_reads(node: ast.AST) -> tuple[list[tuple], bool]:
    """The access paths below `entries[...]` in `node`, and whether it reads anything else
    (feed, bozo, encoding, …)."""
    paths: list[tuple] = []
    other = False

    def chain(n: ast.AST) -> list | None:
        """[`entries`, idx, key, key, …] for a subscript/attribute chain rooted at entries."""
        keys = []
        while True:
            if isinstance(n, ast.Subscript):
                keys.append(key_of(n.slice))
                n = n.value
            elif isinstance(n, ast.Attribute):
                keys.append(n.attr)
                n = n.value
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get":
                keys.append(key_of(n.args[0]) if n.args else None)
                n = n.func.value
            else:
                break
        if isinstance(n, ast.Name) and n.id == "entries":
            return list(reversed(keys))
        return None

    seen_chains: set[int] = set()

    def visit(n: ast.AST) -> None:
        nonlocal other
        if isinstance(n, (ast.Subscript, ast.Attribute, ast.Call)) and id(n) not in seen_chains:
            c = chain(n)
            if c is not None:
                paths.append(tuple(c))
                # mark the inner nodes so they are not read as shorter paths
                m = n
                while isinstance(m, (ast.Subscript, ast.Attribute, ast.Call)):
                    seen_chains.add(id(m))
                    if isinstance(m, ast.Call):
                        for a in m.args:
                            visit(a)
                        m = m.func.value  # type: ignore[union-attr]
                    else:
                        if isinstance(m, ast.Subscript):
                            visit(m.slice)
                        m = m.value
                return
        if isinstance(n, ast.Name):
            if n.id == "entries":
                paths.append(())
            elif n.id not in {"len", "ord", "isinstance", "str", "int", "True", "False", "None", "type", "list", "dict", "tuple", "time", "u", "repr"}:
                other = True
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return paths, other


def classify(expect: str) -> tuple[str, str | None, str]:
    """('entry', kept expression, '') | ('na', None, why) | ('feed', None, '')."""
    try:
        tree = ast.parse(expect.strip(), mode="eval")
    except SyntaxError:
        return ("feed", None, "")
    kept = []
    na_reason = ""
    for term in conjuncts(tree.body):
        paths, other = entry_reads(term)
        if not paths:
            continue  # bozo, encoding, feed-level: not gleaner's to answer
        if other:
            na_reason = "reads feed-level values beside entries"
            continue
        ok = True
        for p in paths:
            # () is `entries` itself: len(entries) is the number of stories.
            if len(p) == 0:
                continue
            if len(p) == 1:
                ok = False  # entries[0] as a whole
                break
            field = p[1]
            if field not in EXPOSED:
                ok = False
                na_reason = f"reads entries[…][{field!r}]"
                break
            sub = EXPOSED_SUB.get(field)
            if sub is not None and len(p) > 2:
                rest = [k for k in p[2:] if not isinstance(k, int)]
                if rest and rest[0] not in sub:
                    ok = False
                    na_reason = f"reads entries[…][{field!r}][{rest[0]!r}]"
                    break
        if ok:
            kept.append(term)
        elif not na_reason:
            na_reason = "reads a whole entry"
    if kept:
        expr = " and ".join(f"({ast.unparse(t)})" for t in kept)
        if na_reason:
            # Some entry-level terms are not answerable: the case is not applicable as a whole.
            return ("na", None, na_reason)
        return ("entry", expr, "")
    if na_reason:
        return ("na", None, na_reason)
    return ("feed", None, "")


# --- comparing values --------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
URL_ATTRS = {"href", "src", "cite", "action", "background", "longdesc", "usemap"}
POLICY_ADDED = {("a", "rel", "noopener noreferrer"), ("img", "loading", "lazy"), ("iframe", "loading", "lazy")}


class _Canon(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = sorted(
            (k, urllib.parse.unquote(v or "") if k in URL_ATTRS else v or "")
            for k, v in attrs
            if (tag, k, v) not in POLICY_ADDED
        )
        self.out.append("<" + tag + "".join(f' {k}="{v}"' for k, v in attrs) + ">")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag):
        if tag not in VOID:
            self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(data)


def canon_html(s: str) -> str:
    p = _Canon()
    try:
        p.feed(s)
        p.close()
    except Exception:
        return s
    return re.sub(r"\s+", " ", "".join(p.out)).strip()


def html_text(s: str) -> str:
    text = re.sub(r"<[^>]*>", " ", s)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


class Compared(str):
    """A value gleaner read, compared with an expected one by what it means (`same`), not by
    how it is spelled; equal spelling is always equal."""

    def same(self, other: str) -> bool:
        return False

    def __eq__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return str.__eq__(self, other) or self.same(other)

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    __hash__ = str.__hash__


class HtmlValue(Compared):
    """gleaner's sanitized HTML, equal to an expected HTML string when the markup is equal."""

    def same(self, other):
        return canon_html(self) == canon_html(other)

    def __contains__(self, other):
        return str.__contains__(self, other) or canon_html(other) in canon_html(self)


class TextValue(Compared):
    """gleaner's plain text (a title, an excerpt). `as_html`: feedparser keeps this value as
    HTML, so an expected value is compared by its text. `prefix`: gleaner cut it short."""

    as_html = False
    prefix = False

    def same(self, other):
        mine = str(self)
        theirs = html_text(other) if self.as_html else re.sub(r"\s+", " ", other).strip()
        if mine == theirs:
            return True
        if self.prefix and mine.endswith("…"):
            return theirs.startswith(mine[:-1].rstrip())
        return False


def make_text(s: str, as_html: bool, prefix: bool = False) -> TextValue:
    t = TextValue(s)
    t.as_html = as_html
    t.prefix = prefix
    return t


def canon_url(u: str) -> str:
    p = urllib.parse.urlsplit(u.strip())
    return urllib.parse.urlunsplit(
        (p.scheme.lower(), p.netloc.lower(), urllib.parse.unquote(p.path) or "/", p.query, p.fragment)
    )


class UrlValue(Compared):
    """gleaner's link, equal to a URL that names the same address (scheme and host in any
    case, the path with or without escapes)."""

    def same(self, other):
        return canon_url(self) == canon_url(other)


class DateValue(Compared):
    """An instant (RFC 3339 from gleaner), equal to a date string feedparser reads as the same
    instant."""

    def same(self, other):
        import feedparser.datetimes

        theirs = feedparser.datetimes._parse_date(other)
        mine = feedparser.datetimes._parse_date(str(self))
        return theirs is not None and mine is not None and tuple(theirs)[:6] == tuple(mine)[:6]


class AuthorValue(Compared):
    """gleaner's author (a name), equal to feedparser's author string when that string is
    this name with an address."""

    fp_name = None

    def same(self, other):
        mine = str(self)
        return self.fp_name is not None and mine == self.fp_name and mine in other


def struct_time(rfc3339: str | None):
    if not rfc3339:
        return None
    import calendar
    import datetime

    d = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
    return time.gmtime(calendar.timegm(d.timetuple()))


# --- building feedparser's view of gleaner's output --------------------------------------


def build_entries(doc: dict, fp) -> list:
    from feedparser.util import FeedParserDict

    out = []
    fp_entries = fp.entries if fp is not None else []
    for i, e in enumerate(doc.get("entries", [])):
        fpe = fp_entries[i] if i < len(fp_entries) else {}
        d = FeedParserDict()
        title_html = is_markup_type(fpe.get("title_detail", {}).get("type", ""))
        if e.get("title") and not (e["title"] == "(untitled)" and "title" not in fpe):
            d["title"] = make_text(e["title"], title_html)
            d["title_detail"] = FeedParserDict(value=d["title"])
        if e.get("url"):
            d["link"] = UrlValue(e["url"])
        body = e.get("content_html") or ""
        fp_has_content = bool(fpe.get("content"))
        fp_summary = fpe.get("summary")
        separate_summary = (
            fp_has_content and fp_summary is not None and fp_summary != fpe["content"][0].get("value")
        )
        summary_type = fpe.get("summary_detail", {}).get("type", "text/html")
        content_type = (fpe.get("content") or [{}])[0].get("type", summary_type)
        if separate_summary:
            # gleaner keeps a teaser beside the body as the plain-text excerpt.
            d["summary"] = make_text(e.get("excerpt", ""), True, prefix=True)
        elif body:
            d["summary"] = body_value(body, summary_type)
        if "summary" in d:
            d["summary_detail"] = FeedParserDict(value=d["summary"])
        if body:
            d["content"] = [FeedParserDict(value=body_value(body, content_type), type="text/html")]
        if e.get("published"):
            d["published"] = DateValue(e["published"])
            d["published_parsed"] = struct_time(e["published"])
        changed = e.get("updated") or e.get("published")
        if changed:
            d["updated"] = DateValue(changed)
            d["updated_parsed"] = struct_time(changed)
        if e.get("author"):
            a = AuthorValue(e["author"])
            a.fp_name = fpe.get("author_detail", {}).get("name")
            d["author"] = a
            d["author_detail"] = FeedParserDict(name=e["author"])
        out.append(d)
    return out


def is_markup_type(t: str) -> bool:
    return "html" in t or "xml" in t


def body_value(body: str, fp_type: str) -> str:
    """gleaner's body: HTML compared as markup; where feedparser read the text as plain text,
    gleaner wrote it as HTML paragraphs, so it is compared by its text."""
    if is_markup_type(fp_type):
        return HtmlValue(body)
    return make_text(html_text(body), False)


def run_gleaner(binary: str, path: Path, headers: dict[str, str], base: str) -> dict:
    cmd = [binary, "inspect", "--json", "--base", base]
    if "content-type" in headers:
        cmd += ["--content-type", headers["content-type"]]
    cmd.append(str(path))
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    line = r.stdout.decode("utf-8", "replace").strip().splitlines()
    if not line:
        return {"error": "no output: " + r.stderr.decode("utf-8", "replace")[-300:], "entries": []}
    return json.loads(line[0])


def run_feedparser(path: Path, headers: dict[str, str], base: str):
    try:
        import feedparser
    except ImportError:
        return None
    h = dict(headers)
    h.setdefault("content-location", base)
    return feedparser.parse(path.read_bytes(), response_headers=h)


def evaluate(expr: str, entries: list) -> tuple[bool, str]:
    env = {"entries": entries, "time": time, "__builtins__": __builtins__}
    try:
        return bool(eval(expr, env)), ""
    except Exception as e:  # an absent field, an index past the end, …
        return False, f"{type(e).__name__}: {e}"


def one_case(row: dict, corpora: Path, binary: str, policy: list) -> dict:
    kind, expr, why = classify(row["expect"])
    result = {"path": row["path"], "kind": kind, "expect": row["expect"]}
    if kind != "entry":
        result["why"] = why
        return result
    path = corpora / "feedparser" / row["path"]
    headers = parse_headers(row["headers"])
    base = headers.get("content-location") or SUITE_BASE + row["path"]
    doc = run_gleaner(binary, path, headers, base)
    fp = run_feedparser(path, headers, base)
    entries = build_entries(doc, fp)
    ok, err = evaluate(expr, entries)
    result.update(checked=expr, passed=ok, error=err)
    if fp is not None:
        fp_ok, _ = evaluate(expr, fp.entries)
        result["feedparser_passes"] = fp_ok
    if not ok:
        result["gleaner"] = doc
        rule = policy_for(row["path"], policy)
        if rule is not None:
            glob, check, reason = rule
            verified, why = verify_policy(check, expr, entries, fp.entries if fp is not None else [])
            result["policy"] = {"glob": glob, "check": check, "reason": reason, "verified": verified, "why": why}
    return result


def load_policy(path: Path) -> list[tuple[str, str, str]]:
    """bench/conformance-policy.tsv: glob, check, reason (tab-separated; # comments)."""
    out = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                glob, check, reason = (line.split("\t") + ["", ""])[:3]
                out.append((glob.strip(), check.strip(), reason.strip()))
    return out


def policy_for(path: str, policy: list[tuple[str, str, str]]):
    for glob, check, reason in policy:
        if fnmatch.fnmatchcase(path, glob):
            return glob, check, reason
    return None


def words(s: str) -> list[str]:
    return html_text(s).split()


def verify_policy(check: str, expr: str, entries: list, fp_entries: list) -> tuple[bool, str]:
    """Whether a failure is of the kind its policy line says: the check is on the values the
    failing comparison read (gleaner's side, and the expected constant)."""
    if check == "fewer-entries":
        return len(entries) < len(fp_entries), f"{len(entries)} of {len(fp_entries)} entries"
    tree = ast.parse(expr, mode="eval")
    compares = [n for n in ast.walk(tree) if isinstance(n, ast.Compare) and len(n.ops) == 1 and isinstance(n.ops[0], ast.Eq)]
    if not compares:
        return False, "no comparison to check"
    env = {"entries": entries, "time": time}
    for node in compares:
        sides = [node.left, node.comparators[0]]
        const = [x for x in sides if not entry_reads(x)[0]]
        read = [x for x in sides if entry_reads(x)[0]]
        if len(const) != 1 or len(read) != 1:
            return False, "not a value comparison"
        try:
            expected = eval(compile(ast.Expression(const[0]), "<expect>", "eval"), env)
        except Exception as e:
            return False, f"cannot evaluate the expected value: {e}"
        try:
            got = eval(compile(ast.Expression(read[0]), "<got>", "eval"), env)
        except Exception:
            got = ""
        if not isinstance(expected, str):
            return False, "the expected value is not text"
        got = str(got)
        if check == "same-text":
            ok = words(got) == words(expected)
        elif check == "text-subset":
            theirs = set(words(expected))
            ok = all(w in theirs for w in words(got))
        elif check == "no-text":
            ok = not words(expected)
        else:
            return False, f"unknown check {check!r}"
        if not ok:
            return False, f"{check} does not hold: gleaner {html_text(got)!r}, expected {html_text(expected)!r}"
    return True, ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", default=os.environ.get("GLEANER_CORPORA", str(REPO.parent / "shared" / "corpora")))
    ap.add_argument("--gleaner", default=os.environ.get("GLEANER_BIN"))
    ap.add_argument("--failures", nargs="?", const="other", choices=["other", "all"],
                    help="print the failing cases (other: those no policy line explains; all)")
    ap.add_argument("--json", metavar="FILE", help="write every case's result here")
    ap.add_argument("--min-entries", type=float, default=None, help="exit 1 below this %% of applicable entry cases")
    ap.add_argument("--only", default="", help="only paths containing this text")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    try:
        import feedparser  # noqa: F401  (the side-by-side reading decides what is compared)
    except ImportError:
        print("feedparser is not installed: pip install feedparser==6.0.14", file=sys.stderr)
        return 3
    corpora = Path(args.corpora)
    binary = args.gleaner
    if not binary:
        for cand in (REPO / "target" / "release" / "gleaner", REPO / "target" / "debug" / "gleaner"):
            if cand.exists():
                binary = str(cand)
                break
    if not binary:
        print("no gleaner binary: build it (cargo build --release) or set GLEANER_BIN", file=sys.stderr)
        return 2
    rows = [r for r in read_index(corpora) if args.only in r["path"]]
    policy = load_policy(REPO / "bench" / "conformance-policy.tsv")

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda r: one_case(r, corpora, binary, policy), rows))

    entry = [r for r in results if r["kind"] == "entry"]
    na = [r for r in results if r["kind"] == "na"]
    passed = [r for r in entry if r["passed"]]
    failed = [r for r in entry if not r["passed"]]
    policy_failed = [r for r in failed if r.get("policy", {}).get("verified")]
    bug_failed = [r for r in failed if not r.get("policy", {}).get("verified")]
    unverified = [r for r in failed if "policy" in r and not r["policy"]["verified"]]
    used_globs = {r["policy"]["glob"] for r in policy_failed}
    stale_policy = [g for g, _, _ in policy if g not in used_globs]

    by_dir: dict[str, list[int]] = {}
    for r in entry:
        d = "/".join(r["path"].split("/")[:2]) if r["path"].startswith("wellformed") or r["path"].startswith("illformed") else r["path"].split("/")[0]
        c = by_dir.setdefault(d, [0, 0])
        c[0] += 1
        c[1] += bool(r["passed"])
    print(f"feedparser cases: {len(results)}; entry-level: {len(entry) + len(na)}; "
          f"applicable: {len(entry)}; not applicable: {len(na)}")
    print(f"passed: {len(passed)}/{len(entry)} = {100.0 * len(passed) / max(1, len(entry)):.1f} %")
    print(f"failed: {len(failed)}: {len(policy_failed)} by policy (verified), {len(bug_failed)} other"
          + (f" ({len(unverified)} of them claimed by a policy line whose check failed)" if unverified else ""))
    judged = len(entry) - len(policy_failed)
    print(f"passed, policy failures set aside: {len(passed)}/{judged} = {100.0 * len(passed) / max(1, judged):.1f} %")
    reasons: dict[str, int] = {}
    for r in policy_failed:
        reasons[r["policy"]["reason"]] = reasons.get(r["policy"]["reason"], 0) + 1
    if reasons:
        print("\npolicy failures by reason:")
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  {n:4}  {reason}")
    fp_fail = [r for r in entry if r.get("feedparser_passes") is False]
    print(f"(feedparser {getattr(__import__('feedparser'), '__version__', '?')} itself fails {len(fp_fail)} of the applicable cases)")
    print()
    print(f"{'folder':32} {'passed':>7} {'cases':>6}")
    for d in sorted(by_dir):
        n, p = by_dir[d]
        print(f"{d:32} {p:7} {n:6}")
    if stale_policy and not args.only:
        print("\npolicy lines that match no failure (remove them from bench/conformance-policy.tsv):")
        for p in stale_policy:
            print("  " + p)
    if args.failures:
        print("\nfailures:")
        for r in failed:
            pol = r.get("policy")
            if pol and pol["verified"]:
                if args.failures != "all":
                    continue
                tag = "POLICY " + pol["reason"][:60]
            elif pol:
                tag = "FAIL (policy check failed: " + pol["why"] + ")"
            else:
                tag = "FAIL"
            got = r.get("gleaner", {})
            ents = [
                {k: e.get(k) for k in ("title", "url", "published", "updated", "author", "excerpt", "content_html")}
                for e in got.get("entries", [])[:2]
            ]
            print(f"- {r['path']}  [{tag}]")
            print(f"    expect: {r['checked']}")
            if r.get("error"):
                print(f"    error:  {r['error']}")
            if got.get("error"):
                print(f"    gleaner error: {got['error']}")
            print(f"    gleaner: {json.dumps(ents, ensure_ascii=False)[:600]}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    if args.min_entries is not None:
        pct = 100.0 * len(passed) / max(1, judged)
        if pct < args.min_entries:
            print(f"\nbelow the floor: {pct:.1f} % < {args.min_entries} %", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
