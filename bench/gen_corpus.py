#!/usr/bin/env python3
"""Deterministic corpus of realistic feeds for the gleaner benchmark (issue #5).

Usage (Python 3.11, standard library only):

    bench/gen_corpus.py OUT_DIR [N] [--seed S] [--now 2026-11-25T00:00:00Z] [--port 8088]
    bench/gen_corpus.py OUT_DIR [N] --change 10 --round R     # touch 10 % of the feeds
    bench/gen_corpus.py OUT_DIR --restore                    # undo every --change

Generation writes N feeds (default 2,000) as OUT_DIR/www/<host>/<i>.<ext>, feed i on host
127.0.0.(2 + i % 250), and OUT_DIR/manifest.json.  The same N, --seed and --now give
byte-identical files (file mtimes aside).  Feed i is generated from its own random stream,
seeded by (seed, i); the pool of stories shared across feeds scales with N.

The mix (per feed, drawn from its stream):
  * wordpress   RSS 2.0 with content:encoded in CDATA, dc:creator, wfw/slash, an excerpt
  * atom        Atom 1.0; content type="html" (escaped), type="xhtml" (inline XHTML) or
                type="html" in CDATA  (one sub-type per feed)
  * rss_escaped RSS 2.0 whose <description> holds entity-escaped HTML
  * jsonfeed    JSON Feed 1.1 (some with \\uXXXX escapes, as PHP generators write them)
  * podcast     RSS 2.0 with enclosures and itunes:* tags, show notes in CDATA
20–50 entries each; file sizes log-normal (median ≈ 35 KB, p90 ≈ 90 KB, p99 ≈ 200 KB; the
achieved distribution is printed and stored in the manifest).  Bodies carry accents, CJK,
emoji (with ZWJ sequences and flags), named and numeric entities, images (with srcset, and
tracking pixels in some feeds), <pre><code> blocks with < > & inside, lists, quotes, headings,
the odd YouTube iframe, and links with utm_* tracking parameters.  About 5 % of entries are
stories shared across feeds, linked with different tracking parameters (utm_*, fbclid, gclid),
http/https, www./no-www and trailing-slash variants: one canonical link each.  Entry dates
spread over the 60 days before --now (fixed, so the corpus is deterministic).

manifest.json: n, seed, now, port, formats, the feeds (name, url, host, path, format,
subtype, entries, bytes), expected_unique_stories (distinct canonical links: gleaner's
story count after a cold round), entries_total, entries_by_format, size statistics.

--change PCT --round R rewrites PCT % of the feeds (chosen from (seed, R)): each gets 1–3 new
entries at the top and drops as many of its oldest, so its size, ETag and Last-Modified change
(the mtime is pushed at least one second past the old one, so second-resolution
Last-Modified changes too).  Every change starts from the base corpus, so round R always gives
the same bytes.  It writes OUT_DIR/change.json: the round, the changed feeds, the new entries
and expected_unique_stories_after.  --restore rewrites the changed feeds to the base corpus
and removes change.json.
"""
from __future__ import annotations

import argparse
import html
import datetime as dt
import json
import math
import os
import random
import re
import sys
import time

DEFAULT_NOW = "2026-11-25T00:00:00Z"
FORMATS = (("wordpress", 0.33), ("atom", 0.25), ("rss_escaped", 0.15), ("jsonfeed", 0.10),
           ("podcast", 0.17))
EXT = {"wordpress": "xml", "rss_escaped": "xml", "podcast": "rss", "atom": "atom",
       "jsonfeed": "json"}
SIZE_MEDIAN, SIZE_SIGMA = 35_000, 0.737   # log-normal: p90 ≈ 90 KB, p99 ≈ 195 KB
SIZE_MIN, SIZE_MAX = 7_000, 1_000_000
SHARED_P = 0.05
DAY = 86400

# ---------------------------------------------------------------- vocabulary -----------------

EN = """the a we our this that with for from into over under about after before when while how
why what which because although latency throughput kubernetes cluster node pod deploy deployment
rollout canary release incident postmortem review scaling cache queue backlog observability
tracing metrics logs alert pager on-call database postgres replica index query planner vacuum
migration schema rust python golang typescript compiler borrow checker async runtime thread
memory allocator garbage collector heap stack profile flamegraph benchmark regression terraform
ansible pipeline continuous delivery integration test flaky retry timeout circuit breaker
load balancer proxy edge cdn tls certificate dns resolver packet kernel syscall container image
registry artifact supply chain signing sbom vulnerability patch upgrade version feature flag
experiment dashboard service mesh sidecar gateway api endpoint request response payload json
schema protobuf grpc websocket stream batch job scheduler cron worker shard partition
consistency consensus raft leader follower quorum snapshot backup restore disaster recovery
budget cost team engineer manager hiring interview onboarding documentation runbook toil
automation platform developer experience open source maintainer contributor community
conference talk workshop newsletter podcast episode guest host interview story lesson mistake
surprisingly finally really quickly slowly carefully roughly nearly mostly often rarely never
always large small fast slow new old simple complex hard easy cheap expensive safe unsafe
better worse first last next every each many few several""".split()
ACCENTED = ("café naïve résumé façade Zürich São Paulo Kraków Ångström jalapeño smörgåsbord "
            "Øresund Đorđe İstanbul über coöperation déjà vu crème brûlée Málaga Göteborg "
            "Łódź Reykjavík señor piñata Müller Ærø Straße fiancée entrée").split()
CJK = ("日本語の記事はこちらです。", "我们在生产环境中使用 Kubernetes。", "한국어 번역도 제공됩니다.",
       "性能が大幅に向上しました。", "数据库迁移已经完成。", "詳細は以下をご覧ください。",
       "배포 파이프라인을 개선했습니다.", "缓存命中率提高了百分之三十。")
EMOJI = ("🚀", "🎉", "🔥", "👩‍💻", "🇩🇪", "✅", "⚠️", "🦀", "🐍", "📈", "🙌🏽", "🏳️‍🌈")
# (html form, xhtml-safe numeric form)
ENTITIES = (("&nbsp;", "&#160;"), ("&mdash;", "&#8212;"), ("&ndash;", "&#8211;"),
            ("&hellip;", "&#8230;"), ("&rsquo;", "&#8217;"), ("&ldquo;", "&#8220;"),
            ("&rdquo;", "&#8221;"), ("&eacute;", "&#233;"), ("&copy;", "&#169;"),
            ("&trade;", "&#8482;"), ("&#8217;", "&#8217;"), ("&#x2014;", "&#x2014;"),
            ("&#128640;", "&#128640;"), ("&amp;", "&amp;"), ("&lt;", "&lt;"))
AUTHORS = ("Zoë Müller", "José García", "田中太郎", "Ana-María Pérez", "Bjørn Ødegård",
           "Priya Raman", "Chloé Dubois", "Łukasz Wiśniewski", "김민준", "Sam O'Neil",
           "Nguyễn Văn An", "Jordan Lee")
TITLE_HEADS = ("How we", "Why we", "What we learned when we", "Lessons from", "Notes on",
               "A tour of", "Deep dive:", "Postmortem:", "Release notes:", "Ask the expert:",
               "Episode", "Week in review:", "Introducing", "Goodbye,", "On")
CATS = ("Engineering", "Kubernetes", "Databases", "Rust", "Python", "Culture", "SRE",
        "Security", "Releases", "Podcast", "Événements", "开发", "Open Source", "DevOps")
SITE_WORDS = ("blog", "dev", "engineering", "notes", "journal", "tech", "code", "ops", "cloud",
              "data", "infra", "labs", "weekly", "radio", "cast")
CODE = (
    ('rust', 'fn max&lt;T: PartialOrd&gt;(a: T, b: T) -&gt; T {\n    if a &lt; b { b } else { a }\n}\n'
             'let v: Vec&lt;String&gt; = xs.iter().filter(|x| x.len() &gt; 3 &amp;&amp; !x.is_empty()).collect();'),
    ('python', 'def clamp(x, lo, hi):\n    return lo if x &lt; lo else hi if x &gt; hi else x\n'
               'flags = a &amp; 0xff | (b &lt;&lt; 8)\nprint(f"{x!r} -&gt; {y}")'),
    ('javascript', 'const ok = items.filter(i =&gt; i.score &gt;= 0.5 &amp;&amp; i.tags.length &lt; 4);\n'
                   'document.body.innerHTML = "&lt;p&gt;Hello &amp;amp; welcome&lt;/p&gt;";'),
    ('html', '&lt;a href="/feed?x=1&amp;amp;y=2"&gt;RSS&lt;/a&gt;\n&lt;img src="a.png" alt="&amp;lt;3"&gt;'),
    ('shell', 'curl -s "https://api.example.com/v1/items?page=2&amp;per_page=100" | jq \'.[] | select(.n &gt; 3)\'\n'
              'for f in *.log; do grep -c ERROR "$f" &gt;&gt; counts.txt; done 2&gt;/dev/null'),
    ('sql', "SELECT id, title FROM stories WHERE score &gt; 0.8 AND published &lt; now() - interval '7 days'\n"
            "  AND (tags &amp; 4) = 4 ORDER BY score DESC LIMIT 20;"),
    ('go', 'if err != nil &amp;&amp; !errors.Is(err, io.EOF) {\n    return fmt.Errorf("read: %w", err)\n}\n'
           'ch := make(chan &lt;-chan int, 8)'),
    ('yaml', 'resources:\n  limits: {cpu: "500m", memory: "256Mi"}\nargs: ["--flag=a&amp;b", "&lt;none&gt;"]'),
)
TRACKING = ("utm_source=rss&amp;utm_medium=rss&amp;utm_campaign={c}",
            "utm_source=newsletter&amp;utm_medium=email&amp;utm_content=link{n}",
            "utm_source=twitter&amp;utm_medium=social",
            "fbclid=IwAR{h}",
            "gclid=Cj0KCQ{h}",
            "ref=blog")
EXT_HOSTS = ("github.com", "docs.rs", "en.wikipedia.org", "news.ycombinator.com", "lwn.net",
             "www.postgresql.org", "kubernetes.io", "arxiv.org", "www.youtube.com",
             "developer.mozilla.org", "例え.jp", "bücher.example")


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr_escape(s: str) -> str:
    return xml_escape(s).replace('"', "&quot;")


TAG_RE = re.compile(r"<[^>]+>")


def html_to_text(h: str) -> str:
    """Plain text: tags dropped, entities decoded."""
    return html.unescape(" ".join(TAG_RE.sub(" ", h).split()))


def rfc822(ts: int, tz_minutes: int = 0) -> str:
    t = dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(minutes=tz_minutes)))
    if tz_minutes == 0:
        return t.strftime("%a, %d %b %Y %H:%M:%S +0000")
    sign = "+" if tz_minutes > 0 else "-"
    m = abs(tz_minutes)
    return t.strftime("%a, %d %b %Y %H:%M:%S ") + f"{sign}{m // 60:02d}{m % 60:02d}"


def rfc3339(ts: int, tz_minutes: int = 0) -> str:
    t = dt.datetime.fromtimestamp(ts, dt.timezone(dt.timedelta(minutes=tz_minutes)))
    s = t.isoformat()
    return s[:-6] + "Z" if tz_minutes == 0 else s


def parse_now(s: str) -> int:
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


# ---------------------------------------------------------------- text bank ------------------

SYLLABLES = ("ka lo mi ne ru ta ve zo pri stra ber con dis ent ful gen hol ing jor kin lex mor "
             "nar ost pel qui ros sen tor und vil wen xan yel zur ba de fi go hu ja ke li mo nu "
             "pa re si tu wa").split()
FUNCTION_WORDS = EN[:16]


class Bank:
    """Vocabulary, sentences and headings drawn once from (seed); bodies pick from them.

    Words follow a Zipf law over ~4,000 words (the tech vocabulary first, then made-up words),
    so texts and titles differ the way real ones do: titles are drawn per entry and almost
    never repeat, and two unrelated bodies share few word 3-shingles.
    """

    def __init__(self, seed: int):
        r = random.Random(f"{seed}:bank")
        vocab, seen = list(EN), set(EN)
        while len(vocab) < 4200:
            w = "".join(r.choice(SYLLABLES) for _ in range(r.randint(2, 4)))
            if w not in seen:
                seen.add(w)
                vocab.append(w)
        self.vocab = vocab
        acc, self.cum = 0.0, []
        for rank in range(len(vocab)):
            acc += 1.0 / (rank + 3)
            self.cum.append(acc)
        # Title words: content words (no leading function words), Zipf as well.
        self.tvocab = vocab[len(FUNCTION_WORDS):]
        acc, self.tcum = 0.0, []
        for rank in range(len(self.tvocab)):
            acc += 1.0 / (rank + 10)
            self.tcum.append(acc)
        self.sent_html, self.sent_xhtml = [], []
        for _ in range(8000):
            words = r.choices(vocab, cum_weights=self.cum, k=r.randint(7, 24))
            roll = r.random()
            if roll < 0.25:
                words.insert(r.randrange(len(words)), r.choice(ACCENTED))
            if roll < 0.06:
                words.insert(r.randrange(len(words)), r.choice(EMOJI))
            ent = None
            if r.random() < 0.30:
                ent = r.randrange(len(ENTITIES))
                pos = r.randrange(len(words))
            s = " ".join(words)
            s = s[0].upper() + s[1:]
            if r.random() < 0.05:
                s += " (R&amp;D costs rose 3% &gt; plan)"
            end = r.choice(".....?!:")
            if r.random() < 0.04:
                s += "." + r.choice(CJK)
                end = ""
            if ent is not None:
                ws = s.split(" ")
                pos = min(pos, len(ws) - 1)
                h, x = ENTITIES[ent]
                self.sent_html.append(" ".join(ws[:pos] + [h] + ws[pos:]) + end)
                self.sent_xhtml.append(" ".join(ws[:pos] + [x] + ws[pos:]) + end)
            else:
                self.sent_html.append(s + end)
                self.sent_xhtml.append(s + end)
        self.headings = [self.title(r) for _ in range(2000)]

    def words(self, r: random.Random, k: int) -> list[str]:
        return r.choices(self.tvocab, cum_weights=self.tcum, k=k)

    def title(self, r: random.Random) -> str:
        """A fresh title (plain text: may hold &, <, curly quotes, non-ASCII, emoji)."""
        w = self.words(r, r.randint(3, 8))
        t = f"{r.choice(TITLE_HEADS)} {' '.join(w)}"
        roll = r.random()
        if roll < 0.15:
            t += f" in {r.choice(ACCENTED)}"
        elif roll < 0.20:
            t += " " + r.choice(EMOJI)
        elif roll < 0.25:
            t += " — " + r.choice(CJK)
        elif roll < 0.30:
            t = t.replace(" ", " & ", 1)
        elif roll < 0.33:
            t += " (when a < b)"
        elif roll < 0.40:
            t = t.replace("we", "we’re", 1)
        return t


# ---------------------------------------------------------------- bodies ---------------------

def tracked_url(r: random.Random, host: str | None = None) -> str:
    host = host or r.choice(EXT_HOSTS)
    path = "/".join(r.choice(EN) for _ in range(r.randint(1, 3)))
    q = r.choice(TRACKING).format(c=r.choice(EN), n=r.randint(1, 99),
                                  h="".join(r.choice("abcdefghijkLMNOP0123456789_-")
                                            for _ in range(24)))
    return f"https://{host}/{path}?{q}" if r.random() < 0.7 else f"https://{host}/{path}"


def body_html(r: random.Random, bank: Bank, target: int, site: str, xhtml: bool,
              pixel: bool) -> str:
    """HTML (or well-formed XHTML) of about `target` bytes."""
    sents = bank.sent_xhtml if xhtml else bank.sent_html
    close = " />" if xhtml else ">"
    out, n = [], 0
    first = True
    while n < target:
        roll = r.random()
        if first or roll < 0.58:
            k = max(1, min(r.randint(2, 6), (target - n) // 110))
            parts = r.choices(sents, k=k)
            x = r.random()
            if x < 0.35:
                parts.insert(r.randrange(k + 1),
                             f'See <a href="{tracked_url(r)}">{r.choice(EN)} {r.choice(EN)}</a>.')
            elif x < 0.45:
                parts.insert(r.randrange(k + 1),
                             f"Use <code>{r.choice(EN)} &lt; {r.choice(EN)} &amp;&amp; n &gt; 0</code>.")
            elif x < 0.55:
                parts.insert(r.randrange(k + 1), f"<strong>{r.choice(sents)}</strong>")
            elif x < 0.62:
                parts.insert(r.randrange(k + 1), f'<a href="/{r.choice(EN)}/{r.randint(1, 999)}/">'
                                                 f"<em>{r.choice(EN)}</em></a>")
            b = "<p>" + " ".join(parts) + "</p>\n"
            first = False
        elif roll < 0.65:
            lvl = r.choice("23")
            b = f"<h{lvl}>{xml_escape(r.choice(bank.headings))}</h{lvl}>\n"
        elif roll < 0.73:
            y, m = 2026, r.randint(1, 11)
            name = f"{r.choice(EN)}-{r.randint(1, 9999)}"
            src = f"https://{site}/wp-content/uploads/{y}/{m:02d}/{name}"
            w = r.choice((800, 1024, 1200, 1600))
            h = w * r.choice((9, 10, 3)) // 16
            b = (f'<figure><img src="{src}.jpg" alt="{r.choice(EN)} {r.choice(ACCENTED)}" '
                 f'width="{w}" height="{h}" srcset="{src}-300x169.jpg 300w, {src}-768x432.jpg 768w, '
                 f'{src}.jpg {w}w" sizes="(max-width: {w}px) 100vw, {w}px" loading="lazy"{close}'
                 f"<figcaption>{r.choice(sents)}</figcaption></figure>\n")
        elif roll < 0.81:
            lang, code = r.choice(CODE)
            b = f'<pre><code class="language-{lang}">{code}</code></pre>\n'
        elif roll < 0.89:
            items = "".join(f"<li>{s}</li>" for s in r.choices(sents, k=r.randint(2, 6)))
            tag = r.choice(("ul", "ol"))
            b = f"<{tag}>{items}</{tag}>\n"
        elif roll < 0.95:
            b = f"<blockquote><p>{r.choice(sents)} {r.choice(sents)}</p></blockquote>\n"
        elif roll < 0.96:
            vid = "".join(r.choice("abcdefghijkLMNOP0123456789_-") for _ in range(11))
            b = (f'<iframe width="560" height="315" src="https://www.youtube.com/embed/{vid}" '
                 f'frameborder="0" allowfullscreen="allowfullscreen"></iframe>\n')
        else:
            b = f"<p>{r.choice(sents)}<br{close}{r.choice(CJK)} {r.choice(EMOJI)}</p>\n"
        out.append(b)
        n += len(b)
    if pixel:
        out.append(f'<img src="https://stats.wordpress.com/b.gif?host={site}&amp;blog={r.randint(1, 10**8)}'
                   f'&amp;post={r.randint(1, 10**5)}" alt="" width="1" height="1"{close}')
    return "".join(out)


# ---------------------------------------------------------------- feeds ----------------------

class Ctx:
    def __init__(self, n: int, seed: int, now: int, port: int):
        self.n, self.seed, self.now, self.port = n, seed, now, port
        self.bank = Bank(seed)
        self.pool = max(4, int(n * 35 * SHARED_P / 3))   # each shared story in ~3 feeds


def host_of(i: int) -> str:
    return f"127.0.0.{2 + i % 250}"


def pick_format(r: random.Random) -> str:
    x, acc = r.random(), 0.0
    for f, w in FORMATS:
        acc += w
        if x < acc:
            return f
    return FORMATS[-1][0]


def shared_story(ctx: Ctx, k: int) -> dict:
    r = random.Random(f"{ctx.seed}:shared:{k}")
    host = f"news{k % 37}.{r.choice(SITE_WORDS)}-wire.example"
    date = ctx.now - r.randint(3 * 3600, 58 * DAY)
    m = dt.datetime.fromtimestamp(date, dt.timezone.utc)
    slug = "-".join(ctx.bank.words(r, 4))
    return {"k": k, "host": host, "path": f"/{m.year}/{m.month:02d}/{slug}-{k}",
            "title": ctx.bank.title(r), "date": date}


def shared_variant(r: random.Random, s: dict, i: int) -> str:
    scheme = "http" if r.random() < 0.4 else "https"
    www = "www." if r.random() < 0.3 else ""
    slash = "/" if r.random() < 0.3 else ""
    q = r.choice(("", f"?utm_source=feed{i}&utm_medium=rss",
                  f"?utm_source=aggregator&utm_campaign=c{i % 97}&utm_content={r.randint(1, 999)}",
                  f"?fbclid=IwAR{r.randint(10**9, 10**10)}",
                  f"?utm_medium=social&fbclid=IwZX{r.randint(10**6, 10**7)}",
                  f"?gclid=Cj0K{r.randint(10**6, 10**7)}"))
    return f"{scheme}://{www}{s['host']}{s['path']}{slash}{q}"


def make_feed(ctx: Ctx, i: int) -> tuple[dict, list[dict]]:
    """The feed's metadata and entries, bodies included (sized to the feed's target)."""
    r = random.Random(f"{ctx.seed}:feed:{i}")
    fmt = pick_format(r)
    sub = r.choice(("html", "xhtml", "cdata")) if fmt == "atom" else ""
    word = r.choice(SITE_WORDS)
    site = r.choice((f"{word}{i}.example", f"www.{word}{i}.example.org", f"{word}.team{i}.example.com"))
    target = int(min(SIZE_MAX, max(SIZE_MIN, math.exp(r.gauss(math.log(SIZE_MEDIAN), SIZE_SIGMA)))))
    n_entries = r.randint(20, 50)
    n_entries = min(n_entries, max(20, target // 1300))   # small feeds: fewer entries
    meta = {
        "i": i, "format": fmt, "subtype": sub, "site": site,
        "name": f"feed{i:05d}", "file": f"{i}.{EXT[fmt]}", "host": host_of(i),
        "title": f"{r.choice(('The', 'Le', 'Das', 'Our', ''))} {r.choice(ACCENTED)} {word.title()} {i}".strip(),
        "target": target, "pixel": r.random() < 0.2, "tracked_links": r.random() < 0.2,
        "tz": r.choice((0, 0, 0, 60, -300, 330, 540, -480)), "json_ascii": r.random() < 0.3,
        "lang": r.choice(("en-US", "en", "fr-FR", "de", "ja", "pt-BR")),
    }
    meta["url"] = f"http://{meta['host']}:{ctx.port}/{meta['file']}"
    dates = sorted((ctx.now - r.randint(2 * 3600, 60 * DAY) for _ in range(n_entries)), reverse=True)
    used_shared: set[int] = set()
    entries = []
    for pos, date in enumerate(dates):
        num = 1000 + (n_entries - pos) * 7
        e = {"num": num, "date": date, "author": r.choice(AUTHORS),
             "cats": r.sample(CATS, r.randint(1, 4)), "weight": r.lognormvariate(0, 0.6),
             "comments": r.randint(0, 120), "shared": None}
        if r.random() < SHARED_P and len(used_shared) < ctx.pool:
            k = r.randrange(ctx.pool)
            while k in used_shared:
                k = r.randrange(ctx.pool)
            used_shared.add(k)
            s = shared_story(ctx, k)
            e.update(shared=k, title=s["title"], link=shared_variant(r, s, i),
                     date=min(ctx.now - 3600, s["date"] + r.randint(0, 6 * 3600)))
        else:
            m = dt.datetime.fromtimestamp(date, dt.timezone.utc)
            slug = "-".join(ctx.bank.words(r, r.randint(2, 5)))
            e["title"] = ctx.bank.title(r)
            if fmt == "podcast":
                e["link"] = f"https://{site}/episodes/{num}-{slug}"
            else:
                e["link"] = f"https://{site}/{m.year}/{m.month:02d}/{m.day:02d}/{slug}-{num}/"
            if meta["tracked_links"]:
                e["link"] += "?utm_source=rss&utm_medium=rss&utm_campaign=" + slug
        entries.append(e)
    entries.sort(key=lambda e: -e["date"])
    fill_bodies(ctx, meta, entries, r)
    return meta, entries


def fill_bodies(ctx: Ctx, meta: dict, entries: list[dict], r: random.Random) -> None:
    for e in entries:
        e.setdefault("body", "")
        e.setdefault("excerpt", "x" * 270)   # stand-in while measuring the skeleton
    overhead = len(render(ctx, meta, entries))
    # 0.88: the body builder overshoots each entry by half a block on average.
    budget = max(len(entries) * 120, int(meta["target"] * 0.88) - overhead)
    expand = {"rss_escaped": 1.22, "jsonfeed": 1.04}.get(meta["format"], 1.0)
    if meta["format"] == "atom" and meta["subtype"] == "html":
        expand = 1.22
    wsum = sum(e["weight"] for e in entries)
    for e in entries:
        if e["body"]:
            continue
        want = int(budget * e["weight"] / wsum / expand)
        if e["shared"] is not None:
            # The same text in every feed that carries it (a prefix, when a feed cuts it short).
            rr = random.Random(f"{ctx.seed}:sharedbody:{e['shared']}")
            e["body"] = body_html(rr, ctx.bank, want, "news.example", meta["subtype"] == "xhtml", False)
        else:
            e["body"] = body_html(r, ctx.bank, want, meta["site"], meta["subtype"] == "xhtml",
                                  meta["pixel"])
        txt = html_to_text(e["body"])
        e["excerpt"] = (txt[:280].rsplit(" ", 1)[0] + " […]") if len(txt) > 280 else txt


def cdata(s: str) -> str:
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def wp_title(t: str) -> str:
    """WordPress writes curly quotes and dashes as numeric references."""
    return xml_escape(t).replace("’", "&#8217;").replace("—", "&#8212;")


def render(ctx: Ctx, meta: dict, entries: list[dict]) -> bytes:
    fmt = meta["format"]
    if fmt == "jsonfeed":
        return render_json(ctx, meta, entries)
    if fmt == "atom":
        return render_atom(ctx, meta, entries)
    return render_rss(ctx, meta, entries)


def render_rss(ctx: Ctx, meta: dict, entries: list[dict]) -> bytes:
    fmt, site, tz = meta["format"], meta["site"], meta["tz"]
    o = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    if fmt == "wordpress":
        o.append('<rss version="2.0"\n\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
                 '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
                 '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
                 '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
                 '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
                 '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n\n<channel>\n')
    elif fmt == "podcast":
        o.append('<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
                 'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                 'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">\n'
                 '<channel>\n')
    else:
        o.append('<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>\n')
    last = entries[0]["date"] if entries else ctx.now
    o.append(f"\t<title>{xml_escape(meta['title'])}</title>\n"
             f'\t<atom:link href="{meta["url"]}" rel="self" type="application/rss+xml" />\n'
             f"\t<link>https://{site}/</link>\n"
             f"\t<description>{xml_escape('Notes & news from ' + meta['title'])} &#8212; since 2009</description>\n"
             f"\t<lastBuildDate>{rfc822(last, tz)}</lastBuildDate>\n"
             f"\t<language>{meta['lang']}</language>\n")
    if fmt == "wordpress":
        o.append("\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
                 "\t<generator>https://wordpress.org/?v=6.7.1</generator>\n")
    if fmt == "podcast":
        o.append(f"\t<itunes:author>{xml_escape(AUTHORS[meta['i'] % len(AUTHORS)])}</itunes:author>\n"
                 f'\t<itunes:image href="https://{site}/cover-3000.jpg"/>\n'
                 '\t<itunes:category text="Technology"><itunes:category text="Software How-To"/></itunes:category>\n'
                 "\t<itunes:explicit>false</itunes:explicit>\n\t<itunes:type>episodic</itunes:type>\n"
                 f"\t<itunes:owner><itunes:name>{xml_escape(meta['title'])}</itunes:name>"
                 f"<itunes:email>show@{site}</itunes:email></itunes:owner>\n"
                 f"\t<image><url>https://{site}/cover-1400.jpg</url><title>{xml_escape(meta['title'])}</title>"
                 f"<link>https://{site}/</link></image>\n")
    for e in entries:
        link = xml_escape(e["link"])
        date = rfc822(e["date"], tz)
        if fmt == "wordpress":
            pid = e["num"] * 13 + meta["i"]
            cats = "".join(f"\t\t<category>{cdata(c)}</category>\n" for c in e["cats"])
            o.append(f"\t<item>\n\t\t<title>{wp_title(e['title'])}</title>\n\t\t<link>{link}</link>\n"
                     f"\t\t<comments>{link}#respond</comments>\n"
                     f"\t\t<dc:creator>{cdata(e['author'])}</dc:creator>\n\t\t<pubDate>{date}</pubDate>\n"
                     f'{cats}\t\t<guid isPermaLink="false">https://{meta["site"]}/?p={pid}</guid>\n'
                     f"\t\t<description>{cdata(xml_escape(e['excerpt']))}</description>\n"
                     f"\t\t\t\t\t\t\t\t\t\t<content:encoded>{cdata(e['body'])}</content:encoded>\n"
                     f"\t\t\t\t\t<wfw:commentRss>{link}feed/</wfw:commentRss>\n"
                     f"\t\t\t<slash:comments>{e['comments']}</slash:comments>\n\t\t</item>\n")
        elif fmt == "podcast":
            ep = e["num"] // 7
            secs = 600 + (e["num"] * 37) % 5400
            o.append(f"\t<item>\n\t\t<title>Episode {ep}: {xml_escape(e['title'])}</title>\n"
                     f"\t\t<link>{link}</link>\n\t\t<pubDate>{date}</pubDate>\n"
                     f'\t\t<guid isPermaLink="false">{meta["site"]}-ep-{e["num"]:08x}-{meta["i"]:05x}</guid>\n'
                     f'\t\t<enclosure url="https://cdn.podhost.example/{meta["i"]}/ep{ep}.mp3?utm_source=rss&amp;_from=feed" '
                     f'length="{secs * 16000}" type="audio/mpeg"/>\n'
                     f"\t\t<itunes:duration>{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}</itunes:duration>\n"
                     f"\t\t<itunes:episode>{ep}</itunes:episode>\n\t\t<itunes:explicit>false</itunes:explicit>\n"
                     f"\t\t<itunes:summary>{xml_escape(e['excerpt'])}</itunes:summary>\n"
                     f"\t\t<description>{cdata(e['body'])}</description>\n\t\t</item>\n")
        else:
            cats = "".join(f"<category>{xml_escape(c)}</category>" for c in e["cats"])
            o.append(f"<item><title>{xml_escape(e['title'])}</title><link>{link}</link>"
                     f"<guid isPermaLink=\"true\">{link}</guid><pubDate>{date}</pubDate>"
                     f"<author>{e['author'].split()[0].lower()}@{meta['site']} ({xml_escape(e['author'])})</author>"
                     f"{cats}<description>{xml_escape(e['body'])}</description></item>\n")
    o.append("\t</channel>\n</rss>\n")
    return "".join(o).encode("utf-8")


def render_atom(ctx: Ctx, meta: dict, entries: list[dict]) -> bytes:
    site, tz, sub = meta["site"], meta["tz"], meta["subtype"]
    last = entries[0]["date"] if entries else ctx.now
    o = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
         f'xml:lang="{meta["lang"]}">\n'
         f'<title type="text">{xml_escape(meta["title"])}</title>\n'
         f'<subtitle type="html">{xml_escape("<em>Notes</em> & news")}</subtitle>\n'
         f"<id>tag:{site},2009:feed</id>\n<updated>{rfc3339(last, tz)}</updated>\n"
         f'<link rel="alternate" type="text/html" href="https://{site}/"/>\n'
         f'<link rel="self" type="application/atom+xml" href="{xml_escape(meta["url"])}"/>\n'
         '<generator uri="https://gohugo.io/" version="0.139">Hugo</generator>\n']
    for e in entries:
        d = rfc3339(e["date"], tz)
        if sub == "xhtml":
            content = f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{e["body"]}</div></content>'
        elif sub == "cdata":
            content = f'<content type="html">{cdata(e["body"])}</content>'
        else:
            content = f'<content type="html">{xml_escape(e["body"])}</content>'
        cats = "".join(f'<category term="{attr_escape(c)}"/>' for c in e["cats"])
        o.append(f"<entry>\n<title type=\"text\">{xml_escape(e['title'])}</title>\n"
                 f'<link rel="alternate" type="text/html" href="{attr_escape(e["link"])}"/>\n'
                 f"<id>tag:{site},2026:post-{e['num']}</id>\n<published>{d}</published>\n<updated>{d}</updated>\n"
                 f"<author><name>{xml_escape(e['author'])}</name></author>\n{cats}\n"
                 f'<summary type="text">{xml_escape(e["excerpt"])}</summary>\n{content}\n</entry>\n')
    o.append("</feed>\n")
    return "".join(o).encode("utf-8")


def render_json(ctx: Ctx, meta: dict, entries: list[dict]) -> bytes:
    site, tz = meta["site"], meta["tz"]
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta["title"],
        "home_page_url": f"https://{site}/",
        "feed_url": meta["url"],
        "description": "Notes & news <small>since 2009</small>",
        "icon": f"https://{site}/icon-512.png",
        "language": meta["lang"],
        "authors": [{"name": AUTHORS[meta["i"] % len(AUTHORS)], "url": f"https://{site}/about"}],
        "items": [],
    }
    for e in entries:
        item = {"id": f"https://{site}/p/{e['num']}", "url": e["link"], "title": e["title"],
                "content_html": e["body"], "summary": e["excerpt"],
                "date_published": rfc3339(e["date"], tz), "authors": [{"name": e["author"]}],
                "tags": e["cats"]}
        if e["num"] % 3 == 0:
            item["image"] = f"https://{site}/img/{e['num']}.webp"
        doc["items"].append(item)
    return (json.dumps(doc, ensure_ascii=meta["json_ascii"], indent=1 if meta["i"] % 2 else None)
            + "\n").encode("utf-8")


# ---------------------------------------------------------------- change rounds --------------

def new_entries(ctx: Ctx, meta: dict, entries: list[dict], rnd: int) -> list[dict]:
    r = random.Random(f"{ctx.seed}:change:{rnd}:{meta['i']}")
    k = r.randint(1, 3)
    avg = max(200, sum(len(e["body"]) for e in entries) // max(1, len(entries)))
    out = []
    for m in range(k):
        num = 900_000 + rnd * 10 + (k - m)
        slug = "-".join(ctx.bank.words(r, 3))
        date = ctx.now - m * 600 - r.randint(0, 300)   # newer than every base entry
        d = dt.datetime.fromtimestamp(date, dt.timezone.utc)
        link = (f"https://{meta['site']}/episodes/{num}-{slug}" if meta["format"] == "podcast"
                else f"https://{meta['site']}/{d.year}/{d.month:02d}/{d.day:02d}/{slug}-r{rnd}-{num}/")
        body = body_html(r, ctx.bank, int(avg * r.uniform(0.5, 1.5)), meta["site"],
                         meta["subtype"] == "xhtml", meta["pixel"])
        txt = html_to_text(body)
        out.append({"num": num, "date": date, "author": r.choice(AUTHORS),
                    "cats": r.sample(CATS, 2), "weight": 1.0, "comments": 0, "shared": None,
                    "title": f"New: {ctx.bank.title(r)}", "link": link, "body": body,
                    "excerpt": txt[:280].rsplit(" ", 1)[0]})
    return out


def changed_feeds(n: int, seed: int, pct: float, rnd: int) -> list[int]:
    r = random.Random(f"{seed}:changeset:{rnd}")
    return sorted(r.sample(range(n), max(1, round(n * pct / 100))))


# ---------------------------------------------------------------- driver ---------------------

def write_file(path: str, data: bytes, min_mtime: float | None = None) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    if min_mtime is not None:
        t = max(time.time(), min_mtime)
        os.utime(path, (t, t))


def pct(sorted_vals: list[int], p: float) -> int:
    if not sorted_vals:
        return 0
    idx = min(len(sorted_vals) - 1, max(0, math.ceil(p / 100 * len(sorted_vals)) - 1))
    return sorted_vals[idx]


def size_stats(sizes: list[int]) -> dict:
    s = sorted(sizes)
    return {"min": s[0], "p10": pct(s, 10), "median": pct(s, 50), "p90": pct(s, 90),
            "p99": pct(s, 99), "max": s[-1], "mean": round(sum(s) / len(s)), "total": sum(s)}


def generate(out: str, n: int, seed: int, now: int, now_s: str, port: int, quiet: bool) -> dict:
    ctx = Ctx(n, seed, now, port)
    www = os.path.join(out, "www")
    os.makedirs(www, exist_ok=True)
    for h in range(min(n, 250)):
        os.makedirs(os.path.join(www, host_of(h)), exist_ok=True)
    feeds, shared_used, own = [], set(), 0
    by_format: dict[str, dict] = {}
    t0 = time.time()
    for i in range(n):
        meta, entries = make_feed(ctx, i)
        data = render(ctx, meta, entries)
        rel = os.path.join("www", meta["host"], meta["file"])
        write_file(os.path.join(out, rel), data)
        for e in entries:
            if e["shared"] is None:
                own += 1
            else:
                shared_used.add(e["shared"])
        fmt_key = meta["format"] + (f"/{meta['subtype']}" if meta["subtype"] else "")
        bf = by_format.setdefault(fmt_key, {"feeds": 0, "entries": 0, "bytes": 0})
        bf["feeds"] += 1
        bf["entries"] += len(entries)
        bf["bytes"] += len(data)
        feeds.append({"i": i, "name": meta["name"], "url": meta["url"], "host": meta["host"],
                      "file": meta["file"], "path": rel, "format": meta["format"],
                      "subtype": meta["subtype"], "entries": len(entries),
                      "shared_entries": sum(1 for e in entries if e["shared"] is not None),
                      "bytes": len(data)})
        if not quiet and (i + 1) % 1000 == 0:
            print(f"  {i + 1}/{n} feeds ({time.time() - t0:.0f}s)", file=sys.stderr)
    stats = size_stats([f["bytes"] for f in feeds])
    manifest = {
        "generator": "bench/gen_corpus.py", "n": n, "seed": seed, "now": now_s, "port": port,
        "expected_unique_stories": own + len(shared_used),
        "entries_total": sum(f["entries"] for f in feeds),
        "shared_entries": sum(f["shared_entries"] for f in feeds),
        "shared_stories": len(shared_used), "shared_pool": ctx.pool,
        "formats": by_format, "size_stats": stats, "feeds": feeds,
    }
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    return manifest


def load_manifest(out: str) -> dict:
    with open(os.path.join(out, "manifest.json")) as fh:
        return json.load(fh)


def restore(out: str, quiet: bool = False) -> int:
    path = os.path.join(out, "change.json")
    if not os.path.exists(path):
        return 0
    man = load_manifest(out)
    with open(path) as fh:
        ch = json.load(fh)
    ctx = Ctx(man["n"], man["seed"], parse_now(man["now"]), man["port"])
    for i in ch["feeds"]:
        meta, entries = make_feed(ctx, i)
        f = man["feeds"][i]
        p = os.path.join(out, f["path"])
        old = os.stat(p).st_mtime
        write_file(p, render(ctx, meta, entries), min_mtime=math.floor(old) + 1)
    os.remove(path)
    if not quiet:
        print(f"restored {len(ch['feeds'])} feeds", file=sys.stderr)
    return len(ch["feeds"])


def change(out: str, pct_: float, rnd: int, quiet: bool = False) -> dict:
    restore(out, quiet=True)
    man = load_manifest(out)
    ctx = Ctx(man["n"], man["seed"], parse_now(man["now"]), man["port"])
    ids = changed_feeds(man["n"], man["seed"], pct_, rnd)
    new_total, by_fmt = 0, {}
    for i in ids:
        meta, entries = make_feed(ctx, i)
        add = new_entries(ctx, meta, entries, rnd)
        entries = add + entries[: len(entries) - len(add)]
        f = man["feeds"][i]
        p = os.path.join(out, f["path"])
        old = os.stat(p).st_mtime
        write_file(p, render(ctx, meta, entries), min_mtime=math.floor(old) + 1)
        new_total += len(add)
        by_fmt[meta["format"]] = by_fmt.get(meta["format"], 0) + len(add)
    info = {"round": rnd, "percent": pct_, "feeds": ids, "new_entries": new_total,
            "new_entries_by_format": by_fmt,
            "expected_unique_stories_after": man["expected_unique_stories"] + new_total}
    with open(os.path.join(out, "change.json"), "w") as fh:
        json.dump(info, fh)
    if not quiet:
        print(f"round {rnd}: changed {len(ids)} feeds, {new_total} new entries", file=sys.stderr)
    return info


def print_stats(man: dict) -> None:
    s = man["size_stats"]
    kb = lambda b: f"{b / 1000:.1f} KB"
    print(f"{man['n']} feeds, {s['total'] / 1e6:.1f} MB, {man['entries_total']} entries "
          f"({man['shared_entries']} shared entries of {man['shared_stories']} shared stories), "
          f"{man['expected_unique_stories']} unique stories expected")
    print(f"feed size: min {kb(s['min'])}, p10 {kb(s['p10'])}, median {kb(s['median'])}, "
          f"p90 {kb(s['p90'])}, p99 {kb(s['p99'])}, max {kb(s['max'])}, mean {kb(s['mean'])}")
    for k, v in sorted(man["formats"].items()):
        print(f"  {k:14} {v['feeds']:6} feeds {v['entries']:8} entries {v['bytes'] / 1e6:8.1f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("n", nargs="?", type=int, default=None, help="number of feeds (default 2000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", default=DEFAULT_NOW, help="reference date (RFC 3339, UTC)")
    ap.add_argument("--port", type=int, default=8088, help="port written into the feed URLs")
    ap.add_argument("--change", type=float, metavar="PCT", help="touch PCT %% of the feeds")
    ap.add_argument("--round", type=int, default=1, help="which change round (with --change)")
    ap.add_argument("--restore", action="store_true", help="undo --change")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    if a.restore or a.change is not None:
        man = load_manifest(a.out)
        if a.n is not None and a.n != man["n"]:
            ap.error(f"{a.out} holds {man['n']} feeds, not {a.n}")
        if a.restore:
            restore(a.out, a.quiet)
        else:
            info = change(a.out, a.change, a.round, a.quiet)
            print(json.dumps({k: v for k, v in info.items() if k != "feeds"}))
        return 0
    man = generate(a.out, a.n or 2000, a.seed, parse_now(a.now), a.now, a.port, a.quiet)
    print_stats(man)
    return 0


if __name__ == "__main__":
    sys.exit(main())
