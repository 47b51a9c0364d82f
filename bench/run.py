#!/usr/bin/env python3
"""gleaner vs newsboat vs sfeed_update on one corpus, served by a private nginx (issue #5).

Usage (Python 3.11, standard library only; run as root, or with the packages installed):

    bench/run.py --quick                      # CI smoke test: 200 feeds, 1 run, asserts counts
    bench/run.py                              # 2,000 feeds, 5 runs, with the peers
    bench/run.py --feeds 200 2000 20000 --runs 5
    bench/run.py --feeds 20000 --runs 1 --no-peers
    GLEANER_BIN=/tmp/bench-target/release/gleaner bench/run.py --feeds 2000 --runs 3 --profile

Options: --feeds N [N ...] (default 2000), --runs K (default 5), --quick (N=200, one run;
peers only if already installed), --peers / --no-peers (default: peers on, installed if
missing, except in --quick), --port P (default 8088), --tools gleaner,newsboat,sfeed,
--seed S, --now 2026-12-01T00:00:00Z (the corpus's reference date; default today 00:00 UTC,
so that the candidate window gleaner writes after each round holds the share of the corpus it
would on the real web: 7 of its 60 days, plus stories seen late), --change-pct 10, --work DIR (default a fresh /tmp/gleaner-bench-*, removed at the
end unless --keep), --out-dir DIR (default bench/), --profile (after the runs: one more cold
gleaner round under `perf stat` and `perf record`, report in OUT_DIR/profile-<N>.txt),
--timeout SECONDS per phase (default 3600), --quiet-wait SECONDS (below), --phases
cold,conditional,steady,changed (a subset, e.g. `--phases cold` for the peers at 20,000 feeds).  Env: GLEANER_BIN
(the binary), GLEANER_COMMIT (a label stored with the results, e.g. the commit it was built
from).

What it does
  * Installs what is missing with `apt-get install -y nginx newsboat sfeed` (nginx, curl and
    GNU time always; the peers unless --no-peers / --quick).  Every command runs under
    `/usr/bin/time -f "%e %U %S %M"`: CPU is the user+sys of the command and the children it
    waited for, and peak RSS its ru_maxrss.  (Not os.wait4 from Python: a child forked from
    the runner inherits the runner's ~30 MiB high-water mark as its ru_maxrss.)
  * Per N: generates the corpus once with bench/gen_corpus.py (deterministic; manifest.json has
    the expected unique stories), then starts its own nginx (private config and prefix under
    the work dir, `nginx -p PREFIX -c CONF -g 'daemon off;'`, never the system service) on
    0.0.0.0:P.  Feed i lives at http://127.0.0.(2 + i % 250):P/<i>.<ext>; `root WWW/$host;`
    ($host is the Host header without the port) maps every loopback address to its own
    directory.  nginx sends ETag and Last-Modified for static files and answers
    If-None-Match / If-Modified-Since with 304; its access log records the status and the
    conditional headers of every request, so the runner counts 200s and 304s per phase.
  * A curl-only round (`curl --parallel --parallel-max 16 -K urls`, one process) fetches
    every feed cold and then with If-None-Match/If-Modified-Since: the server's floor.
  * For each run, each tool: three phases, each from the same starting corpus
      cold         empty state (new database / cache / sfeedpath)
      conditional  at once again, nothing changed (all 304 for a client that sends validators)
      steady       a third pass, nothing changed: what every later poll costs.  newsboat 2.21
                   sends no validators in its second pass after a cold start (it stores
                   ETag/Last-Modified only for feeds already in its cache), only from the third
      changed      after `gen_corpus --change 10 --round 1` (10 % of the feeds get 1–3 new
                   entries); the corpus is restored afterwards, so every run does the same work
    and per phase: wall seconds, CPU seconds (user+sys of the child and the children it
    waited for), peak RSS (MiB, ru_maxrss via GNU time: the largest single process of the tree — for
    sfeed_update that is one curl/sfeed/sort, not the sum of its 16 jobs), the 200s / 304s
    nginx logged, and a count proving the work was done:
      gleaner      SELECT COUNT(*) FROM stories            (its SQLite db)
      newsboat     SELECT COUNT(*) FROM rss_item           (its cache db)
      sfeed_update lines across its feed files              (sfeedpath)
  * Configuration, the same politeness for all (16 at once, no per-host cap, no host delay):
      gleaner      feeds.toml: [fetch] concurrency = 16, per_host = 16, host_delay = "0s", and
                   the [keywords] of the repository's feeds.toml (it scores every story);
                   `gleaner --config feeds.toml poll` (binary: $GLEANER_BIN, default
                   target/release/gleaner)
      newsboat     `newsboat -x reload -C config -u urls -c cache.db`, config
                   `reload-threads 16`, HOME/XDG dirs in the state dir (~/.newsboat untouched)
      sfeed_update `sfeed_update sfeedrc`, sfeedrc: maxjobs=16, sfeedpath in the state dir,
                   `feed "name" "url"` per feed (sfeed has no JSON Feed parser: those feeds
                   come out empty; the runner lists feeds each peer stored nothing for, by
                   format)
  * Output: OUT_DIR/results-<N>.json (every sample, the checks, the corpus statistics) and a
    Markdown table on stdout: per phase and tool, median (min–max) wall / CPU / RSS, the
    200s, 304s and count, and peer/gleaner ratios (peer time ÷ gleaner time: how many times
    faster gleaner is).
  * Before each phase the runner waits (--quiet-wait, default 120 s, 0 with --quick) until
    the machine is idle (< 0.3 CPU-s busy in a second).  Each sample records nginx's CPU and
    the CPU the rest of the machine used during the phase (other_cpu, from /proc/stat);
    phases disturbed by other load are listed under the table.
  * Checks (every mode; --quick exists for CI): gleaner stored exactly the manifest's unique
    stories (then + the new entries after the change), 200/304 counts per phase (cold: N×200;
    conditional and steady: N×304; changed: changed feeds ×200, the rest ×304), no feed errors; the peers
    requested every feed once per phase; curl saw N×200 then N×304.  Any failed check exits 1.
    nginx is stopped (its own pid only) and the work dir removed on exit, Ctrl-C included.
"""
from __future__ import annotations

import argparse
import datetime as dt
import email.utils
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.dont_write_bytecode = True   # no __pycache__ in bench/
import gen_corpus  # noqa: E402

PHASES = ("cold", "conditional", "steady", "changed")
CONCURRENCY = 16
NGINX = next((p for p in (shutil.which("nginx"), "/usr/sbin/nginx") if p and os.path.exists(p)), None)


PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def child_env(**extra: str) -> dict:
    """The environment for every measured command: no proxy (the corpus is on loopback)."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(no_proxy="*", NO_PROXY="*")
    env.update(extra)
    return env


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- setup ----------------------

def apt_install(pkgs: list[str]) -> bool:
    if not pkgs:
        return True
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        log(f"missing {' '.join(pkgs)} and not root: install them first")
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = sudo + ["apt-get", "install", "-y", "-q"] + pkgs
    log("installing: " + " ".join(pkgs))
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode == 0:
        return True
    subprocess.run(sudo + ["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    return subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode == 0


def ensure_tools(want_peers: bool, install_peers: bool) -> list[str]:
    """Installs nginx (and the peers) when missing; returns the peers available."""
    global NGINX
    need = []
    if NGINX is None:
        need.append("nginx")
    if not shutil.which("curl"):
        need.append("curl")
    if not os.access("/usr/bin/time", os.X_OK):
        need.append("time")
    peers = {"newsboat": "newsboat", "sfeed": "sfeed_update"}
    if want_peers and install_peers:
        need += [pkg for pkg, exe in peers.items() if not shutil.which(exe)]
    apt_install(need)
    NGINX = next((p for p in (shutil.which("nginx"), "/usr/sbin/nginx") if p and os.path.exists(p)), None)
    if NGINX is None:
        sys.exit("nginx is required (apt-get install -y nginx)")
    if not shutil.which("curl"):
        sys.exit("curl is required (apt-get install -y curl)")
    return [p for p, exe in peers.items() if want_peers and shutil.which(exe)]


# ---------------------------------------------------------------- nginx ----------------------

class Nginx:
    """A private nginx: config, pid, logs and temp dirs under PREFIX; stopped by its own pid."""

    def __init__(self, prefix: str, www: str, port: int):
        self.prefix, self.www, self.port = prefix, www, port
        self.access = os.path.join(prefix, "access.log")
        self.errlog = os.path.join(prefix, "error.log")
        self.conf = os.path.join(prefix, "nginx.conf")
        self.proc: subprocess.Popen | None = None
        os.makedirs(os.path.join(prefix, "tmp"), exist_ok=True)
        user = ""
        if os.geteuid() == 0:
            for u, g in (("www-data", "www-data"), ("nobody", "nogroup")):
                try:
                    pwd.getpwnam(u)
                    user = f"user {u} {g};"
                    break
                except KeyError:
                    pass
        t = os.path.join(prefix, "tmp")
        with open(self.conf, "w") as fh:
            fh.write(f"""# private nginx for bench/run.py
{user}
worker_processes 2;
worker_rlimit_nofile 65536;
pid {prefix}/nginx.pid;
error_log {self.errlog} warn;
events {{ worker_connections 16384; multi_accept on; }}
http {{
    types {{ application/rss+xml rss xml; application/atom+xml atom; application/feed+json json; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types application/rss+xml application/atom+xml application/feed+json;
    log_format bench '$status $request_method $host $request_uri $body_bytes_sent '
                     '"$http_if_none_match" "$http_if_modified_since" "$http_user_agent"';
    access_log {self.access} bench;
    sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_timeout 65s; keepalive_requests 100000;
    etag on;
    if_modified_since exact;
    server_tokens off;
    client_body_temp_path {t}/body; proxy_temp_path {t}/proxy; fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;
    server {{
        listen 0.0.0.0:{port} backlog=4096;
        server_name _;
        # $host is the Host header without its port: 127.0.0.7:{port} -> 127.0.0.7
        root {www}/$host;
        location / {{ try_files $uri =404; }}
    }}
}}
""")

    def start(self) -> None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                sys.exit(f"port {self.port} is already in use: pick another with --port")
        self.proc = subprocess.Popen([NGINX, "-p", self.prefix, "-c", self.conf, "-e", self.errlog,
                                      "-g", "daemon off;"], start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                sys.exit(f"nginx failed to start:\n{err}\n{open(self.errlog).read() if os.path.exists(self.errlog) else ''}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        sys.exit("nginx did not start listening within 10 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()   # our nginx master only: fast shutdown of its workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def pids(self) -> list[int]:
        if not self.proc:
            return []
        out = [self.proc.pid]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as fh:
                        if int(fh.read().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                            out.append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        return out

    def cpu(self) -> float:
        return proc_cpu(self.pids())

    def offset(self) -> int:
        return os.path.getsize(self.access) if os.path.exists(self.access) else 0

    def settle(self) -> None:
        """nginx logs a request after its response went out: wait until the log stops growing."""
        last, stable = -1, 0
        while stable < 3:
            cur = self.offset()
            stable = stable + 1 if cur == last else 0
            last = cur
            time.sleep(0.03)

    def since(self, off: int) -> dict:
        self.settle()
        st: dict[str, int] = {}
        inm = ims = n = 0
        with open(self.access, "rb") as fh:
            fh.seek(off)
            for line in fh:
                parts = line.split(b" ", 6)
                if len(parts) < 7:
                    continue
                n += 1
                code = parts[0].decode()
                st[code] = st.get(code, 0) + 1
                rest = parts[5:]
                m = re.match(rb'"(.*?)" "(.*?)" ', b" ".join(rest))
                if m:
                    inm += m.group(1) not in (b"", b"-")
                    ims += m.group(2) not in (b"", b"-")
        return {"requests": n, "status": st, "if_none_match": inm, "if_modified_since": ims}


# ---------------------------------------------------------------- tools ----------------------

class Tool:
    name = "?"
    count_label = "?"

    def __init__(self, state: str, feeds: list[dict], port: int):
        self.state, self.feeds, self.port = state, feeds, port
        os.makedirs(state, exist_ok=True)

    def command(self) -> tuple[list[str], dict]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def details(self, out: str, err: str) -> dict:
        return {}


def shipped_keywords() -> str:
    """The `[keywords]` table of the repository's feeds.toml, as TOML text."""
    import tomllib
    with open(os.path.join(REPO, "feeds.toml"), "rb") as fh:
        kw = tomllib.load(fh).get("keywords", {})
    return "[keywords]\n" + "".join(f"{json.dumps(k)} = {v}\n" for k, v in kw.items())


class Gleaner(Tool):
    name, count_label = "gleaner", "stories"

    def __init__(self, state, feeds, port, binary):
        super().__init__(state, feeds, port)
        self.binary = binary
        self.cfg = os.path.join(state, "feeds.toml")
        with open(self.cfg, "w") as fh:
            fh.write('[storage]\npath = "gleaner.db"\n\n[fetch]\n'
                     f'concurrency = {CONCURRENCY}\nper_host = {CONCURRENCY}\nhost_delay = "0s"\n')
            # The editor's keywords, as the shipped feeds.toml has them: scoring is part of
            # gleaner's round (the peers do not score).
            fh.write("\n" + shipped_keywords())
            for f in feeds:
                fh.write(f'\n[[feeds]]\nname = "{f["name"]}"\nurl = "{f["url"]}"\n')

    def command(self):
        env = child_env()
        env.pop("RUST_LOG", None)
        return [self.binary, "--config", self.cfg, "poll"], env

    def count(self) -> int:
        db = os.path.join(self.state, "gleaner.db")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
            return c.execute("SELECT COUNT(*) FROM stories").fetchone()[0]

    def details(self, out, err):
        lines = out.splitlines()
        summary = next((l for l in reversed(lines) if l.startswith("polled ")), None)
        errors = [l for l in lines if ": error:" in l or ": gone" in l or ": retry later" in l]
        # The database as it stands after the phase (WAL included): bytes per story.
        db = os.path.join(self.state, "gleaner.db")
        db_bytes = sum(os.path.getsize(db + x) for x in ("", "-wal") if os.path.exists(db + x))
        return {"summary": summary, "db_bytes": db_bytes,
                "feed_lines": sum(1 for l in lines if not l.startswith("polled ")),
                "errors": len(errors), "error_examples": errors[:5],
                "repaired": sum(1 for l in lines if "(repaired:" in l),
                "stderr_tail": err.strip().splitlines()[-5:] if err.strip() else []}


class Newsboat(Tool):
    name, count_label = "newsboat", "rss_item rows"

    def __init__(self, state, feeds, port):
        super().__init__(state, feeds, port)
        self.home = os.path.join(state, "home")
        os.makedirs(self.home, exist_ok=True)
        self.cfg = os.path.join(state, "config")
        self.urls = os.path.join(state, "urls")
        self.cache = os.path.join(state, "cache.db")
        self.errlog = os.path.join(state, "error.log")
        with open(self.cfg, "w") as fh:
            fh.write(f"reload-threads {CONCURRENCY}\nauto-reload no\ndownload-timeout 30\n"
                     f"download-retries 1\nerror-log \"{self.errlog}\"\n")
        with open(self.urls, "w") as fh:
            for f in feeds:
                fh.write(f'{f["url"]} "~{f["name"]}"\n')

    def command(self):
        env = child_env(HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
                        XDG_DATA_HOME=os.path.join(self.home, ".local", "share"))
        return ["newsboat", "-x", "reload", "-C", self.cfg, "-u", self.urls, "-c", self.cache], env

    def count(self) -> int:
        with sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True) as c:
            return c.execute("SELECT COUNT(*) FROM rss_item").fetchone()[0]

    def empty_feeds(self) -> list[str]:
        with sqlite3.connect(f"file:{self.cache}?mode=ro", uri=True) as c:
            have = {u for (u,) in c.execute("SELECT DISTINCT feedurl FROM rss_item")}
        return [f["url"] for f in self.feeds if f["url"] not in have]

    def details(self, out, err):
        errs = open(self.errlog, errors="replace").read().splitlines() if os.path.exists(self.errlog) else []
        return {"error_log_lines": len(errs), "error_examples": errs[:3],
                "stderr_tail": err.strip().splitlines()[-3:] if err.strip() else []}


class Sfeed(Tool):
    name, count_label = "sfeed_update", "lines"

    def __init__(self, state, feeds, port):
        super().__init__(state, feeds, port)
        self.home = os.path.join(state, "home")
        os.makedirs(self.home, exist_ok=True)
        self.path = os.path.join(state, "feeds")
        self.rc = os.path.join(state, "sfeedrc")
        with open(self.rc, "w") as fh:
            fh.write(f'sfeedpath="{self.path}"\nmaxjobs={CONCURRENCY}\n\nfeeds() {{\n')
            for f in feeds:
                fh.write(f'\tfeed "{f["name"]}" "{f["url"]}"\n')
            fh.write("}\n")

    def command(self):
        return ["sfeed_update", self.rc], child_env(HOME=self.home)

    def count(self) -> int:
        n = 0
        if os.path.isdir(self.path):
            for name in os.listdir(self.path):
                with open(os.path.join(self.path, name), "rb") as fh:
                    n += sum(1 for _ in fh)
        return n

    def empty_feeds(self) -> list[str]:
        out = []
        for f in self.feeds:
            p = os.path.join(self.path, f["name"])
            if not os.path.exists(p) or os.path.getsize(p) == 0:
                out.append(f["url"])
        return out

    def details(self, out, err):
        fails = [l for l in err.splitlines() if "FAIL" in l]
        return {"fail_lines": len(fails), "error_examples": fails[:3]}


# ---------------------------------------------------------------- measuring ------------------

TIME = "/usr/bin/time"


def measure(cmd: list[str], env: dict, cwd: str, out_path: str, err_path: str,
            timeout: float) -> dict:
    """Runs cmd under GNU time, which reports the child's CPU and ru_maxrss.

    Not os.wait4 from here: a child forked (vforked) from this Python process starts with
    Python's own high-water RSS (~30 MiB with a 2,000-feed manifest loaded), and Linux keeps
    that as the child's ru_maxrss across exec; GNU time is a small process, so the peak it
    reports is the command's own.
    """
    tfile = out_path + ".time"
    use_time = os.access(TIME, os.X_OK)
    full = ([TIME, "-o", tfile, "-f", "%e %U %S %M"] if use_time else []) + cmd
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, env=env, cwd=cwd, stdout=out, stderr=err,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        killed = []

        def kill():
            killed.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)   # the child's own process group only
            except ProcessLookupError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        except BaseException:
            kill()
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    user, sys_, rss_kib = ru.ru_utime, ru.ru_stime, ru.ru_maxrss
    rss_src = "wait4 (floored by the runner's own RSS)"
    if use_time:
        try:
            last = read(tfile).strip().splitlines()[-1].split()
            user, sys_, rss_kib = float(last[1]), float(last[2]), int(last[3])
            rss_src = "GNU time"
        except (OSError, IndexError, ValueError):
            pass
    return {"wall": round(wall, 4), "cpu": round(user + sys_, 4), "user": round(user, 4),
            "sys": round(sys_, 4), "rss_mib": round(rss_kib / 1024, 1), "rss_source": rss_src,
            "exit": p.returncode, "timed_out": bool(killed)}


TICK = os.sysconf("SC_CLK_TCK")


def host_busy() -> float:
    """CPU-seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / TICK


def wait_quiet(max_wait: float, threshold: float = 0.3) -> tuple[float, float]:
    """Waits (at most max_wait s) until the machine used < threshold CPU-s in the last second:
    another process compiling on the same cores would skew every figure.  Returns (waited s,
    the last second's busy CPU-s)."""
    if max_wait <= 0:
        return 0.0, 0.0
    t0 = time.time()
    logged = False
    while True:
        a = host_busy()
        time.sleep(1.0)
        busy = host_busy() - a
        waited = time.time() - t0
        if busy < threshold or waited >= max_wait:
            if logged:
                log(f"waited {waited:.0f}s for other load to settle (last second: {busy:.2f} CPU-s busy)")
            return round(waited, 1), round(busy, 2)
        if not logged and waited > 3:
            log(f"the machine is busy with something else ({busy:.2f} CPU-s/s): waiting up to {max_wait:.0f}s")
            logged = True


def proc_cpu(pids: list[int]) -> float:
    t = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return t / TICK


def read(path: str) -> str:
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", errors="replace")


def load(s: dict, h0: float, n0: float, ngx: "Nginx") -> None:
    """nginx's CPU during the phase, and what the rest of the machine used (other load)."""
    s["nginx_cpu"] = round(ngx.cpu() - n0, 3)
    s["host_busy"] = round(host_busy() - h0, 3)
    s["other_cpu"] = round(max(0.0, s["host_busy"] - s["cpu"] - s["nginx_cpu"]), 3)


def run_phase(tool: Tool, phase: str, ngx: Nginx, logdir: str, timeout: float,
              quiet_wait: float) -> dict:
    cmd, env = tool.command()
    waited, busy_before = wait_quiet(quiet_wait)
    off = ngx.offset()
    o, e = os.path.join(logdir, f"{tool.name}-{phase}.out"), os.path.join(logdir, f"{tool.name}-{phase}.err")
    h0, n0 = host_busy(), ngx.cpu()
    s = measure(cmd, env, tool.state, o, e, timeout)
    load(s, h0, n0, ngx)
    s["waited_for_quiet"], s["busy_before"] = waited, busy_before
    s.update(ngx.since(off))
    try:
        s["count"] = tool.count()
    except Exception as ex:  # noqa: BLE001 - a tool that wrote nothing has no count
        s["count"] = None
        s["count_error"] = str(ex)
    s.update(tool.details(read(o), read(e)))
    return s


def curl_round(feeds: list[dict], www_root: str, ngx: Nginx, work: str, conditional: bool,
               quiet_wait: float) -> dict:
    cfg = os.path.join(work, "curl-cond.cfg" if conditional else "curl-cold.cfg")
    with open(cfg, "w") as fh:
        for k, f in enumerate(feeds):
            if k:
                fh.write("next\n")
            fh.write(f'url = "{f["url"]}"\noutput = "/dev/null"\n')
            if conditional:
                st = os.stat(os.path.join(www_root, f["path"]))
                etag = f'"{int(st.st_mtime):x}-{st.st_size:x}"'      # nginx's ETag
                fh.write(f'header = "If-None-Match: {etag.replace(chr(34), chr(92) + chr(34))}"\n'
                         f'header = "If-Modified-Since: {email.utils.formatdate(int(st.st_mtime), usegmt=True)}"\n')
    wait_quiet(quiet_wait)
    off = ngx.offset()
    h0, n0 = host_busy(), ngx.cpu()
    s = measure(["curl", "--parallel", "--parallel-max", str(CONCURRENCY), "-s", "-K", cfg],
                child_env(), work, os.devnull, os.path.join(work, "curl.err"), 600)
    load(s, h0, n0, ngx)
    s.update(ngx.since(off))
    return s


# ---------------------------------------------------------------- reporting ------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_range(xs, digits=2):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    m = statistics.median(xs)
    f = f"{{:.{digits}f}}"
    if len(xs) == 1 or min(xs) == max(xs):
        return f.format(m)
    return f"{f.format(m)} ({f.format(min(xs))}–{f.format(max(xs))})"


def fmt_counts(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    return str(xs[0]) if min(xs) == max(xs) else f"{min(xs)}–{max(xs)}"


def markdown(res: dict) -> str:
    n, c = res["n"], res["corpus"]
    s = c["size_stats"]
    lines = [f"### {n:,} feeds — {s['total'] / 1e6:.1f} MB, feed size median {s['median'] / 1000:.1f} KB, "
             f"p90 {s['p90'] / 1000:.1f} KB, p99 {s['p99'] / 1000:.1f} KB; {c['entries_total']:,} entries, "
             f"{c['expected_unique_stories']:,} unique stories; {res['runs']} run(s); "
             f"changed round: {len(res['change']['feeds'])} feeds, {res['change']['new_entries']} new entries",
             "",
             "| phase | tool | wall s | CPU s | peak RSS MiB | 200 | 304 | count | wall ×gleaner | CPU ×gleaner | nginx CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for phase in PHASES:
        g = res["tools"].get("gleaner", {}).get(phase, [])
        gw, gc = med([x["wall"] for x in g]), med([x["cpu"] for x in g])
        for tool, phases in res["tools"].items():
            xs = phases.get(phase, [])
            if not xs:
                continue
            w, cpu = med([x["wall"] for x in xs]), med([x["cpu"] for x in xs])
            ratio_w = f"{w / gw:.1f}×" if tool != "gleaner" and gw else "–"
            ratio_c = f"{cpu / gc:.1f}×" if tool != "gleaner" and gc else "–"
            label = {"gleaner": "stories", "newsboat": "items", "sfeed_update": "lines"}.get(tool, "")
            lines.append(
                f"| {phase} | {tool} | {fmt_range([x['wall'] for x in xs])} | {fmt_range([x['cpu'] for x in xs])} | "
                f"{fmt_range([x['rss_mib'] for x in xs], 1)} | {fmt_counts([x['status'].get('200', 0) for x in xs])} | "
                f"{fmt_counts([x['status'].get('304', 0) for x in xs])} | "
                f"{fmt_counts([x['count'] for x in xs])} {label} | {ratio_w} | {ratio_c} | "
                f"{fmt_range([x.get('nginx_cpu') for x in xs])} |")
        cu = res["curl"].get({"cold": "cold", "conditional": "conditional"}.get(phase, ""), [])
        if cu:
            lines.append(
                f"| {phase} | curl (server floor) | {fmt_range([x['wall'] for x in cu])} | "
                f"{fmt_range([x['cpu'] for x in cu])} | {fmt_range([x['rss_mib'] for x in cu], 1)} | "
                f"{fmt_counts([x['status'].get('200', 0) for x in cu])} | "
                f"{fmt_counts([x['status'].get('304', 0) for x in cu])} | – | – | – | "
                f"{fmt_range([x.get('nginx_cpu') for x in cu])} |")
    lines.append("")
    noisy = []
    for tool, phases in res["tools"].items():
        for phase, xs in phases.items():
            for x in xs:
                if x.get("other_cpu", 0) > max(0.5, 0.25 * x["wall"]):
                    noisy.append(f"{tool} {phase} {x['other_cpu']:.1f}/{x['wall']:.1f}")
    if noisy:
        lines.append("- other load on the machine (CPU-s used by other processes / wall s): "
                     + ", ".join(noisy))
    g = res["tools"].get("gleaner", {})
    for phase in PHASES:
        if g.get(phase):
            lines.append(f"- gleaner {phase}: `{g[phase][-1].get('summary')}`")
    cold = [x for x in g.get("cold", []) if x.get("db_bytes") and x.get("count")]
    if cold:
        per = med([x["db_bytes"] / x["count"] for x in cold])
        lines.append(f"- gleaner database after the cold round: {med([x['db_bytes'] for x in cold]) / 1e6:.1f} MB "
                     f"(WAL included), {per:,.0f} bytes per story")
    for tool, phases in res["tools"].items():
        for phase in ("conditional", "steady"):
            cs = phases.get(phase, [])
            if cs:
                x = cs[-1]
                lines.append(f"- {tool} {phase} round: {x['if_none_match']} requests with If-None-Match, "
                             f"{x['if_modified_since']} with If-Modified-Since, of {x['requests']}")
    for tool, info in res.get("peer_failures", {}).items():
        if info["feeds"]:
            lines.append(f"- {tool} stored nothing for {info['feeds']} feeds: " +
                         ", ".join(f"{k} {v}" for k, v in sorted(info["by_format"].items())))
    if res["checks"]["failed"]:
        lines.append("")
        lines.append("**Failed checks:**")
        lines += [f"- {m}" for m in res["checks"]["failed"]]
    return "\n".join(lines)


# ---------------------------------------------------------------- checks ---------------------

def check(res: dict, n: int, n_changed: int, expected: int, expected_after: int) -> None:
    failed, ok = res["checks"]["failed"], res["checks"]["passed"]

    def want(cond: bool, msg: str) -> None:
        (ok if cond else failed).append(msg)

    for run, phases in enumerate(res["_per_run"].get("gleaner", []), 1):
        exp_status = {"cold": {"200": n}, "conditional": {"304": n}, "steady": {"304": n},
                      "changed": {"200": n_changed, "304": n - n_changed}}
        exp_count = {"cold": expected, "conditional": expected, "steady": expected,
                     "changed": expected_after}
        for phase, s in phases.items():
            tag = f"gleaner run {run} {phase}"
            want(s["exit"] == 0 and not s["timed_out"], f"{tag}: exit status {s['exit']}"
                 + (" (timed out)" if s["timed_out"] else ""))
            got = {k: v for k, v in s["status"].items() if v}
            want(got == exp_status[phase], f"{tag}: nginx saw {got}, expected {exp_status[phase]}")
            c = s["count"]
            if c == exp_count[phase]:
                ok.append(f"{tag}: {c} stories")
            else:
                diff = (c or 0) - exp_count[phase]
                failed.append(f"{tag}: stored {c} stories, the manifest expects {exp_count[phase]} "
                              f"({diff:+d}): " + ("stories are missing (feeds failed, or entries "
                                                  "were merged that should not be)" if diff < 0 else
                                                  "shared stories were not merged by canonical URL"))
            want(s.get("errors", 0) == 0, f"{tag}: {s.get('errors')} feeds failed, e.g. {s.get('error_examples')}")
    for tool, runs in res["_per_run"].items():
        if tool == "gleaner":
            continue
        for run, phases in enumerate(runs, 1):
            for phase, s in phases.items():
                want(s["requests"] == n, f"{tool} run {run} {phase}: nginx saw {s['requests']} requests for {n} feeds")
                want(not s["timed_out"], f"{tool} run {run} {phase}: timed out")
    for phase, runs in res["curl"].items():
        code = "200" if phase == "cold" else "304"
        for s in runs:
            want(s["status"].get(code, 0) == n, f"curl {phase}: {s['status']}, expected {n}×{code}")


# ---------------------------------------------------------------- driver ---------------------

def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = f"{int(open('/proc/meminfo').readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def ver(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip().splitlines()[0]
        except Exception:  # noqa: BLE001
            return None
    os_name = ""
    try:
        os_name = next(l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release")
                       if l.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": os_name,
            "kernel": platform.release(), "python": platform.python_version(),
            "nginx": subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip(),
            "newsboat": ver(["newsboat", "--version"]) if shutil.which("newsboat") else None,
            "sfeed": ver(["dpkg-query", "-W", "-f", "${Version}", "sfeed"]) if shutil.which("sfeed_update") else None,
            "curl": ver(["curl", "--version"])}


def gleaner_info(binary: str) -> dict:
    info: dict = {"bin": binary}
    try:
        st = os.stat(binary)
        info["built"] = dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat(timespec="seconds")
        info["version"] = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                         timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    if os.environ.get("GLEANER_COMMIT"):
        info["commit"] = os.environ["GLEANER_COMMIT"]
    return info


def profile(binary: str, feeds: list[dict], ngx: Nginx, work: str, out_dir: str, n: int) -> None:
    perf = shutil.which("perf")
    path = os.path.join(out_dir, f"profile-{n}.txt")
    if not perf:
        log("perf not found: no profile")
        return
    report = []
    for mode in ("stat", "record"):
        st = os.path.join(work, f"profile-{mode}")
        shutil.rmtree(st, ignore_errors=True)
        g = Gleaner(st, feeds, ngx.port, binary)
        cmd, env = g.command()
        data = os.path.join(work, "perf.data")
        pre = ([perf, "stat", "-d"] if mode == "stat" else
               [perf, "record", "-F", "199", "--call-graph", "dwarf,32768", "-o", data])
        r = subprocess.run(pre + ["--"] + cmd, env=env, cwd=st, capture_output=True, text=True)
        if mode == "stat":
            report += ["## perf stat -d (one cold round)", r.stderr[-4000:]]
        else:
            if r.returncode != 0:
                report += ["## perf record failed", r.stderr[-2000:]]
                break
            rep = subprocess.run([perf, "report", "-i", data, "--stdio", "--children", "--sort", "sym",
                                  "-g", "none", "--percent-limit", "2"], capture_output=True, text=True)
            report += ["## perf report --children (inclusive time per function, >= 2 %)", rep.stdout[:30000]]
            rep = subprocess.run([perf, "report", "-i", data, "--stdio", "--no-children",
                                  "--sort", "dso,sym", "-g", "none", "--percent-limit", "0.7"],
                                 capture_output=True, text=True)
            report += ["## perf report --no-children (self time, >= 0.7 %)", rep.stdout[:20000]]
            rep = subprocess.run([perf, "report", "-i", data, "--stdio", "--no-children",
                                  "--sort", "comm,dso", "-g", "none"], capture_output=True, text=True)
            report += ["## by thread name and DSO", rep.stdout[:6000]]
        shutil.rmtree(st, ignore_errors=True)
    with open(path, "w") as fh:
        fh.write("\n".join(report))
    log(f"profile written to {path}")


def bench_n(n: int, a, tools: list[str], work: str, binary: str, holder: dict) -> dict:
    corpus = os.path.join(work, f"corpus-{n}")
    log(f"generating {n} feeds in {corpus}")
    t0 = time.time()
    man = gen_corpus.generate(corpus, n, a.seed, gen_corpus.parse_now(a.now), a.now, a.port,
                              quiet=True)
    log(f"corpus: {man['size_stats']['total'] / 1e6:.1f} MB in {time.time() - t0:.0f}s; "
        f"{man['expected_unique_stories']} unique stories expected")
    os.chmod(work, 0o755)
    feeds = man["feeds"]
    ngx = Nginx(os.path.join(work, f"nginx-{n}"), os.path.join(corpus, "www"), a.port)
    ngx.start()
    try:
        url0 = feeds[0]["url"]
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url0, timeout=10) as r:
            if r.status != 200 or not r.headers.get("ETag"):
                sys.exit(f"nginx serves {url0} without 200/ETag: {r.status} {dict(r.headers)}")
        # The change the "changed" phase will apply (deterministic, restored after each run).
        info = gen_corpus.change(corpus, a.change_pct, 1, quiet=True)
        gen_corpus.restore(corpus, quiet=True)
        res = {"n": n, "runs": a.runs, "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "gleaner": gleaner_info(binary), "concurrency": CONCURRENCY,
               "corpus": {k: v for k, v in man.items() if k != "feeds"},
               "change": info, "curl": {"cold": [], "conditional": []},
               "tools": {}, "_per_run": {}, "checks": {"passed": [], "failed": []}}
        holder["res"] = res
        for run in range(1, a.runs + 1):
            res["curl"]["cold"].append(curl_round(feeds, corpus, ngx, work, False, a.quiet_wait))
            res["curl"]["conditional"].append(curl_round(feeds, corpus, ngx, work, True, a.quiet_wait))
            c = res["curl"]
            log(f"run {run}: curl cold {c['cold'][-1]['wall']:.2f}s, conditional {c['conditional'][-1]['wall']:.2f}s")
            for tool in tools:
                state = os.path.join(work, f"state-{n}-{tool}-{run}")
                shutil.rmtree(state, ignore_errors=True)
                if tool == "gleaner":
                    t: Tool = Gleaner(state, feeds, a.port, binary)
                elif tool == "newsboat":
                    t = Newsboat(state, feeds, a.port)
                else:
                    t = Sfeed(state, feeds, a.port)
                logdir = os.path.join(state, "logs")
                os.makedirs(logdir)
                phases = {}
                try:
                    for phase in a.phases:
                        if phase == "changed":
                            gen_corpus.change(corpus, a.change_pct, 1, quiet=True)
                        s = run_phase(t, phase, ngx, logdir, a.timeout, a.quiet_wait)
                        phases[phase] = s
                        res["tools"].setdefault(t.name, {}).setdefault(phase, []).append(s)
                        log(f"run {run} {t.name:12} {phase:11} wall {s['wall']:7.2f}s cpu {s['cpu']:7.2f}s "
                            f"rss {s['rss_mib']:6.1f} MiB  {s['status']}  count {s['count']}"
                            + (f"  exit {s['exit']}" if s["exit"] else "")
                            + (f"\n           {s['summary']}" if s.get("summary") else ""))
                    if isinstance(t, (Newsboat, Sfeed)) and run == 1:
                        empty = set(t.empty_feeds())
                        by_fmt: dict[str, int] = {}
                        for f in feeds:
                            if f["url"] in empty:
                                k = f["format"] + (f"/{f['subtype']}" if f["subtype"] else "")
                                by_fmt[k] = by_fmt.get(k, 0) + 1
                        res.setdefault("peer_failures", {})[t.name] = {"feeds": len(empty), "by_format": by_fmt}
                finally:
                    gen_corpus.restore(corpus, quiet=True)
                res["_per_run"].setdefault(t.name, []).append(phases)
                if not a.keep:
                    shutil.rmtree(state, ignore_errors=True)
        check(res, n, len(info["feeds"]), man["expected_unique_stories"], info["expected_unique_stories_after"])
        if a.profile and "gleaner" in tools:
            profile(binary, feeds, ngx, work, a.out_dir, n)
    finally:
        ngx.stop()
        gen_corpus.restore(corpus, quiet=True)
    del res["_per_run"]
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description="gleaner vs newsboat vs sfeed_update (see the top of this file)")
    ap.add_argument("--feeds", type=int, nargs="+", default=None, metavar="N")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="200 feeds, one run; asserts the counts")
    ap.add_argument("--peers", dest="peers", action="store_true", default=None)
    ap.add_argument("--no-peers", dest="peers", action="store_false")
    ap.add_argument("--tools", default=None, help="comma-separated subset of gleaner,newsboat,sfeed")
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--now", default=None,
                    help="the corpus's reference date (RFC 3339, UTC); default today 00:00 UTC, so "
                         "that gleaner's candidate window (the last 7 days, plus stories seen late) "
                         "holds a realistic share of the corpus")
    ap.add_argument("--change-pct", type=float, default=10)
    ap.add_argument("--work", default=None, help="work dir (default: a new /tmp/gleaner-bench-*)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir and every state dir")
    ap.add_argument("--out-dir", default=BENCH)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per phase before it is killed")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help="comma-separated subset of cold,conditional,steady,changed (in that order; "
                         "a phase after cold needs the ones before it only for its meaning, e.g. "
                         "--phases cold for a long run with the peers at 20,000 feeds)")
    ap.add_argument("--profile", action="store_true", help="perf stat + perf record one cold gleaner round")
    ap.add_argument("--quiet-wait", type=float, default=None,
                    help="before each phase wait up to this many s for other load to settle "
                         "(default 120; 0 with --quick)")
    a = ap.parse_args()
    if a.now is None:
        a.now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT00:00:00Z")
    if a.quick:
        a.feeds = a.feeds or [200]
        a.runs = a.runs or 1
    a.feeds = a.feeds or [2000]
    a.runs = a.runs or 5
    if a.quiet_wait is None:
        a.quiet_wait = 0 if a.quick else 120
    chosen = {p.strip() for p in a.phases.split(",") if p.strip()}
    if not chosen or chosen - set(PHASES):
        sys.exit(f"--phases: choose from {','.join(PHASES)} (got {a.phases!r})")
    a.phases = [p for p in PHASES if p in chosen]
    want_peers = a.peers if a.peers is not None else True
    install_peers = a.peers is True or (a.peers is None and not a.quick)
    peers = ensure_tools(want_peers, install_peers)
    tools = ["gleaner"] + [{"newsboat": "newsboat", "sfeed": "sfeed"}[p] for p in peers]
    if a.tools:
        sel = [t.strip() for t in a.tools.split(",")]
        tools = [t for t in ("gleaner", "newsboat", "sfeed") if t in sel
                 and (t == "gleaner" or t in peers or shutil.which("sfeed_update" if t == "sfeed" else t))]
    binary = os.environ.get("GLEANER_BIN", os.path.join(REPO, "target", "release", "gleaner"))
    if "gleaner" in tools and not os.access(binary, os.X_OK):
        sys.exit(f"gleaner binary not found at {binary}: build it with `cargo build --release` "
                 "or set GLEANER_BIN")
    if a.quick and want_peers and not peers:
        log("--quick: newsboat / sfeed not installed, running gleaner only")
    work = a.work or tempfile.mkdtemp(prefix="gleaner-bench-")
    os.makedirs(work, exist_ok=True)
    os.makedirs(a.out_dir, exist_ok=True)
    log(f"tools: {', '.join(tools)}; feeds: {a.feeds}; runs: {a.runs}; work dir: {work}")

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    failed = False
    holder: dict = {}

    def save(res: dict) -> str:
        path = os.path.join(a.out_dir, f"results-{res['n']}.json")
        res.pop("_per_run", None)
        with open(path, "w") as fh:
            json.dump(res, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        return path
    try:
        for n in a.feeds:
            holder.clear()
            res = bench_n(n, a, tools, work, binary, holder)
            path = os.path.join(a.out_dir, f"results-{n}.json")
            with open(path, "w") as fh:
                json.dump(res, fh, indent=1, ensure_ascii=False)
                fh.write("\n")
            print(markdown(res))
            print()
            print(f"({len(res['checks']['passed'])} checks passed, {len(res['checks']['failed'])} failed; "
                  f"results in {os.path.relpath(path)})")
            print()
            sys.stdout.flush()
            failed |= bool(res["checks"]["failed"])
    except KeyboardInterrupt:
        log("interrupted")
        if holder.get("res"):
            res = holder["res"]
            res["interrupted"] = True
            path = save(res)
            print(markdown(res))
            print(f"\n(interrupted: partial results in {os.path.relpath(path)})")
        return 130
    finally:
        if not a.keep and not a.work:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        log("some checks failed (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
