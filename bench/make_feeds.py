#!/usr/bin/env python3
"""Writes N synthetic RSS feeds (30 items each, ~40 KB) and a feeds.toml pointing at them.

    python3 bench/make_feeds.py OUT_DIR N PORT

Serve OUT_DIR/feeds with `python3 -m http.server PORT --bind 127.0.0.1 -d OUT_DIR/feeds`
(it answers If-Modified-Since with 304), then time `gleaner --config OUT_DIR/feeds.toml poll`.
Deterministic: the same N gives the same bytes. A stand-in until the full benchmark (issue #5).
"""
import os
import random
import sys

out, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
words = ("kubernetes deploy latency postgres incident review scaling cache queue "
         "observability tracing rollout canary terraform release café naïve über").split()
os.makedirs(os.path.join(out, "feeds"), exist_ok=True)
with open(os.path.join(out, "feeds.toml"), "w") as cfg:
    cfg.write('[storage]\npath = "bench.db"\n[fetch]\nconcurrency = 16\nper_host = 16\nhost_delay = "0s"\n')
    for f in range(n):
        items = []
        for i in range(30):
            shared = rng.random() < 0.05
            link = (f"https://shared.example/post/{rng.randrange(200)}?utm_source=f{f}" if shared
                    else f"https://blog{f}.example/{i}")
            para = " ".join(rng.choice(words) for _ in range(120))
            body = f"<p>{para}</p><p><a href=\"/x/{i}\">more</a> <img src=\"/i/{i}.png\"></p>" * 2
            items.append(
                f"<item><guid>f{f}-{i}</guid><title>Post {i} of feed {f}: {rng.choice(words)}</title>"
                f"<link>{link}</link><pubDate>Mon, 07 Apr 2014 09:{i:02d}:00 GMT</pubDate>"
                f"<description><![CDATA[{body}]]></description></item>")
        doc = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
               f"<title>Feed {f}</title><link>https://blog{f}.example/</link>" + "".join(items) +
               "</channel></rss>")
        with open(os.path.join(out, "feeds", f"{f}.xml"), "w") as fh:
            fh.write(doc)
        cfg.write(f'[[feeds]]\nname = "Feed {f}"\nurl = "http://127.0.0.1:{port}/{f}.xml"\n')
