"""Reads a feed with feedparser, as a feed reader would, and prints JSON for the Rust test
(tests/integration/support/atom.rs): every entry's text constructs (title, summary, content,
author, source title) with the content type feedparser gives them, and every link href.

feedparser's own HTML sanitizer and relative-URI resolution are turned off: the test checks
what gleaner wrote, not what feedparser would repair. Exits 3 when feedparser is missing.
"""

import json
import sys

try:
    import feedparser
except ImportError as e:  # the Rust side skips (or fails, in CI) on status 3
    print(f"feedparser is not installed ({e}): python3 -m pip install feedparser", file=sys.stderr)
    sys.exit(3)


def detail(field, d):
    if not d:
        return None
    return {"field": field, "type": d.get("type", ""), "value": d.get("value", "")}


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    entries = []
    for e in parsed.entries:
        values = [
            detail("title", e.get("title_detail")),
            detail("summary", e.get("summary_detail")),
        ]
        values += [detail("content", c) for c in e.get("content", [])]
        if e.get("author_detail", {}).get("name"):
            values.append({"field": "author", "type": "text/plain", "value": e.author_detail["name"]})
        source = e.get("source", {})
        if source.get("title_detail"):
            values.append(detail("source title", source["title_detail"]))
        links = [l.get("href", "") for l in e.get("links", [])]
        links += [l.get("href", "") for l in source.get("links", [])]
        entries.append(
            {
                "id": e.get("id", ""),
                "values": [v for v in values if v],
                "links": links,
                "tags": [t.get("term", "") for t in e.get("tags", [])],
            }
        )
    out = {
        "bozo": bool(parsed.bozo),
        "bozo_exception": str(parsed.get("bozo_exception", "")),
        "version": parsed.version,
        "feedparser": feedparser.__version__,
        "entries": entries,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
