#!/usr/bin/env python3
"""Builds gleaner's fuzz targets and runs each for a set time, one after another.

    python3 fuzz/run.py 300                     # every target, 300 s each
    python3 fuzz/run.py 60 --targets config     # one target
    python3 fuzz/run.py 300 --no-build --sanitizer none

Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). Seeds come
from the shared corpora ($GLEANER_CORPORA, else ../shared/corpora beside the checkout), from
fuzz/seeds/ and from feeds.toml and README.md; they are copied into fuzz/work/seeds/ (ignored
by git, rebuilt on every run). New inputs accumulate in fuzz/corpus/<target>/ across runs;
crashes, timeouts and out-of-memory inputs land in fuzz/artifacts/<target>/. After a crash the
target is restarted for the rest of its time, so one bug does not end the run.

Prints one Markdown table: target, seconds, executions, exec/s, corpus, coverage, crashes;
then every artifact with the commands that reproduce and minimize it. Exit status 1 when any
target crashed.
"""

import argparse
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
TRIPLE = "x86_64-unknown-linux-gnu"

TARGETS = {
    # name: (dictionary, max input length)
    "parse_clean": ("feed.dict", 64 * 1024),
    "canonical_url": ("url.dict", 4096),
    "config": ("toml.dict", 16 * 1024),
}

# Corpus folders that hold feed documents (the others hold vectors, schemas and indexes).
FEED_DIRS = [
    "feedparser/wellformed",
    "feedparser/illformed",
    "feedparser/encoding",
    "feedparser/entities",
    "feedparser/json",
    "feed-rs",
    "w3c-feedvalidator",
    "miniflux/testdata",
    "miniflux/inline-feeds",
    "newsboat",
    "atom-schema",
    "h5sc/hostile-rss2.xml",
    "xml-attacks",
]
SKIP_SUFFIXES = (".tsv", ".md", ".serde.json", ".gz", ".zz", ".rnc", ".rng", ".txt")


def corpora_dir(arg):
    for candidate in (arg, os.environ.get("GLEANER_CORPORA"), ROOT.parent / "shared" / "corpora"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def files_under(path):
    if path.is_file():
        yield path
    elif path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                yield p


def write_seed(dir_, name, data):
    (dir_ / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def seeds_parse_clean(out, corpora):
    n = 0
    if corpora:
        for sub in FEED_DIRS:
            for p in files_under(corpora / sub):
                if p.name.startswith("LICENSE") or p.name.endswith(SKIP_SUFFIXES):
                    continue
                shutil.copyfile(p, out / f"c{n:05}_{p.name}")
                n += 1
        # Every XSS vector, as the content of an RSS item and of an Atom entry.
        vectors = corpora / "derived" / "xss-vectors-combined.jsonl"
        if vectors.is_file():
            for i, line in enumerate(vectors.read_text(encoding="utf-8").split("\n")):
                if not line.strip():
                    continue
                v = json.loads(line)["input"]
                cdata = v.replace("]]>", "]]]]><![CDATA[>")
                write_seed(
                    out,
                    f"xss{i:04}.rss",
                    '<rss version="2.0"><channel><title>x</title><item><title>t</title>'
                    f"<link>https://blog.example/p/{i}</link>"
                    f"<description><![CDATA[{cdata}]]></description></item></channel></rss>",
                )
                write_seed(
                    out,
                    f"xss{i:04}.atom",
                    '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><entry>'
                    f'<id>urn:x:{i}</id><title type="html">{html.escape(v)}</title>'
                    f'<link href="/p/{i}"/><content type="html">{html.escape(v)}</content>'
                    "</entry></feed>",
                )
                n += 2
    return n


URL_RE = re.compile(rb"""(?:href|src|url|link)\s*[=:>]\s*["']?\s*(https?://[^"'<>\s]{1,300})""", re.I)


def seeds_canonical_url(out, corpora):
    urls = []
    for line in (FUZZ / "seeds" / "canonical_url.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            urls.append(line.encode())
    if corpora:
        seen = set(urls)
        for sub in FEED_DIRS:
            for p in files_under(corpora / sub):
                for m in URL_RE.finditer(p.read_bytes()):
                    u = m.group(1)
                    if u not in seen and len(seen) < 3000:
                        seen.add(u)
                        urls.append(u)
    for i, u in enumerate(urls):
        write_seed(out, f"u{i:04}", u)
    return len(urls)


def seeds_config(out, _corpora):
    n = 0
    for p in sorted((FUZZ / "seeds" / "config").glob("*.toml")):
        shutil.copyfile(p, out / p.name)
        n += 1
    shutil.copyfile(ROOT / "feeds.toml", out / "feeds.toml")
    n += 1
    readme = (ROOT / "README.md").read_text()
    for i, block in enumerate(re.findall(r"```toml\n(.*?)```", readme, re.S)):
        write_seed(out, f"readme{i:02}.toml", block)
        n += 1
    return n


SEEDERS = {
    "parse_clean": seeds_parse_clean,
    "canonical_url": seeds_canonical_url,
    "config": seeds_config,
}

STATUS_RE = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", re.M)
STAT_RE = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
ARTIFACT_RE = re.compile(r"Test unit written to (\S+)")
KIND_RE = re.compile(
    r"==\d+==\s*ERROR: (?:libFuzzer|AddressSanitizer): ([\w -]+)|ERROR: libFuzzer: ([\w -]+)"
)


def run_target(name, seconds, corpora, max_len, logs):
    dict_name, default_len = TARGETS[name]
    binary = FUZZ / "target" / TRIPLE / "release" / name
    corpus = FUZZ / "corpus" / name
    seeds = FUZZ / "work" / "seeds" / name
    artifacts = FUZZ / "artifacts" / name
    for d in (corpus, artifacts):
        d.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(seeds, ignore_errors=True)
    seeds.mkdir(parents=True)
    n_seeds = SEEDERS[name](seeds, corpora)

    log = logs / f"{name}.log"
    log.write_text("")
    execs, cov, corp, crashes, restarts = 0, 0, 0, [], 0
    started = time.monotonic()
    while True:
        left = int(seconds - (time.monotonic() - started))
        # A restart first re-reads the corpus (tens of seconds for parse_clean), whatever the
        # time limit says: not worth it for the last minute.
        if left < (3 if restarts == 0 else 60) or restarts > 20:
            break
        cmd = [
            str(binary),
            str(corpus),
            str(seeds),
            f"-max_total_time={left}",
            f"-max_len={max_len or default_len}",
            f"-dict={FUZZ / 'dicts' / dict_name}",
            f"-artifact_prefix={artifacts}/",
            "-timeout=10",
            "-rss_limit_mb=2560",
            "-print_final_stats=1",
        ]
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        with log.open("a") as f:
            f.write(f"$ {' '.join(cmd)}\n{proc.stderr}\n")
        err = proc.stderr
        stats = dict(STAT_RE.findall(err))
        status = STATUS_RE.findall(err)
        if "number_of_executed_units" in stats:
            execs += int(stats["number_of_executed_units"])
        elif status:
            execs += int(status[-1][0])
        if status:
            cov, corp = int(status[-1][1]), int(status[-1][3])
        if proc.returncode == 0:
            break
        restarts += 1
        paths = ARTIFACT_RE.findall(err)
        kind = KIND_RE.search(err)
        kind = (kind.group(1) or kind.group(2)).strip() if kind else f"exit {proc.returncode}"
        crashes.append((kind, paths[-1] if paths else None))
        if "INITED" not in err:
            break  # a seed itself crashes: restarting would crash again at once
    elapsed = time.monotonic() - started
    saved = sum(1 for p in corpus.iterdir() if p.is_file())
    return {
        "target": name,
        "seconds": round(elapsed),
        "execs": execs,
        "exec_s": execs / elapsed if elapsed else 0,
        "corpus": corp,
        "saved": saved,
        "seeds": n_seeds,
        "cov": cov,
        "crashes": crashes,
        "log": log,
    }


def machine_note(sanitizer):
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "+nightly", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; {rustc}; sanitizer {sanitizer}; one job, targets in turn"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seconds", nargs="?", type=int, default=60, help="time per target (default 60)")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated (default: all)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already built")
    ap.add_argument("--sanitizer", default="address", choices=["address", "none"])
    ap.add_argument("--corpora", help="the shared corpora (default $GLEANER_CORPORA or ../shared/corpora)")
    ap.add_argument("--max-len", type=int, help="largest input, bytes (default per target)")
    args = ap.parse_args()

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        sys.exit(f"unknown target(s): {', '.join(unknown)} (known: {', '.join(TARGETS)})")
    corpora = corpora_dir(args.corpora)
    if corpora is None:
        print("note: no shared corpora found; seeding from fuzz/seeds and the repository only", file=sys.stderr)
    if not args.no_build:
        cmd = ["cargo", "+nightly", "fuzz", "build", "-s", args.sanitizer]
        print("$", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, cwd=ROOT, check=True)
    logs = FUZZ / "work" / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    results = []
    for t in targets:
        print(f"fuzzing {t} for {args.seconds} s …", file=sys.stderr)
        r = run_target(t, args.seconds, corpora, args.max_len, logs)
        print(f"  {r['execs']:,} executions, {len(r['crashes'])} crash(es)", file=sys.stderr)
        results.append(r)

    print(f"\nMachine: {machine_note(args.sanitizer)}.\n")
    print("| target | seconds | executions | exec/s | corpus (seeds → kept) | coverage | crashes |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| `{r['target']}` | {r['seconds']} | {r['execs']:,} | {r['exec_s']:,.0f} | "
            f"{r['seeds']:,} → {r['corpus']:,} (+{r['saved']:,} saved) | {r['cov']:,} | {len(r['crashes'])} |"
        )
    crashed = [r for r in results if r["crashes"]]
    for r in crashed:
        print(f"\n{r['target']}: {len(r['crashes'])} crash(es), log {r['log'].relative_to(ROOT)}")
        for kind, path in r["crashes"]:
            print(f"  - {kind}: {path or '(no artifact written)'}")
            if path:
                print(f"      reproduce: fuzz/target/{TRIPLE}/release/{r['target']} {path}")
                print(f"      minimize:  cargo +nightly fuzz tmin {r['target']} {path}")
    if not crashed:
        print("\nNo crashes.")
    sys.exit(1 if crashed else 0)


if __name__ == "__main__":
    main()
