#!/usr/bin/env python3
"""Fails when a module imports what ARCHITECTURE.md says it must never import.

    python3 .ci/layers.py               check src/ against ARCHITECTURE.md
    python3 .ci/layers.py --self-test   prove the check can fail

The rules are the table in ARCHITECTURE.md ("## Modules"): each row names a module in
backticks, its job, what it must never import (backticked module names, or `*` for every
module of the crate), and whether it may read the clock ("never" forbids `Utc::now()`,
`Local::now()` and `SystemTime::now()`: time is an argument). A rule for `a` covers `src/a.rs`
and everything under `src/a/`; a row for `a::b` covers `src/a/b.rs` and `src/a/b/` and is
checked in addition to `a`'s. Unit-test modules (`#[cfg(test)] mod tests`) and comments are
not checked. An import is any `crate::m` path (or `gleaner::m` in the binary); `super::m`
inside a module counts as that sibling.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLOCK = re.compile(r"\b(Utc::now|Local::now|SystemTime::now)\s*\(")


def rules(doc):
    """{module: (never: set | '*', clock_never: bool)} from ARCHITECTURE.md's table."""
    text = open(doc, encoding="utf-8").read()
    section = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        module = cells[0].strip("`")
        never = set(re.findall(r"`([a-z_:]+|\*)`", cells[2]))
        out[module] = ("*" if "*" in never else never, cells[3].lower().startswith("never"))
    if not out:
        sys.exit(f"no rules found in {doc}")
    return out


def strip(src):
    """The code of a file without its unit tests and comments."""
    cut = re.search(r"^#\[cfg\(test\)\]\s*\nmod tests", src, re.M)
    if cut:
        src = src[: cut.start()]
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    return "\n".join(re.sub(r"//.*$", "", l) for l in src.splitlines())


def module_of(rel):
    """src-relative path -> module path (`output::digest`, `desk`, `main`)."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return "::".join(parts) or "lib"


def check(src_dir, doc):
    rs = rules(doc)
    problems = []
    crate_mods = {
        n[:-3] if n.endswith(".rs") else n
        for n in os.listdir(src_dir)
        if n not in ("main.rs", "lib.rs")
    }
    for missing in sorted(crate_mods - {m for m in rs if "::" not in m}):
        problems.append(f"src/{missing}: not in ARCHITECTURE.md's module table")
    for dirpath, _, files in os.walk(src_dir):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src_dir)
            mod = module_of(rel)
            code = strip(open(path, encoding="utf-8").read())
            parent = mod.rsplit("::", 1)[0] if "::" in mod else None
            used = set(re.findall(r"\b(?:crate|gleaner)::([a-z_]+)", code))
            # `super::x` in a submodule of a top-level module names a sibling; in a deeper one, a
            # sibling inside the same top-level module (not checked).
            if parent and "::" not in parent:
                used |= {m for m in re.findall(r"\bsuper::([a-z_]+)", code) if m in crate_mods}
            top = mod.split("::")[0]
            keys = [k for k in rs if mod == k or mod.startswith(k + "::")]
            for key in keys:
                never, clock_never = rs[key]
                for u in sorted(used):
                    if u == top:
                        continue
                    if never == "*" or u in never:
                        problems.append(f"src/{rel}: imports `{u}`, which `{key}` must never import")
                if clock_never:
                    for n, line in enumerate(code.splitlines(), 1):
                        if CLOCK.search(line):
                            problems.append(f"src/{rel}:{n}: reads the clock; `{key}` takes time as an argument")
    return sorted(set(problems))


def self_test():
    """Copies src/ and injects one forbidden import and one clock read: both must be caught."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(REPO, "src"), src)
        doc = os.path.join(REPO, "ARCHITECTURE.md")
        assert check(src, doc) == [], "the tree itself must be clean for the self-test"
        def prepend(rel, line):
            path = os.path.join(src, rel)
            body = open(path, encoding="utf-8").read()
            open(path, "w", encoding="utf-8").write(line + "\n" + body)

        prepend("text.rs", "fn forbidden() { let _ = crate::store::Store::open; }")
        prepend(os.path.join("output", "digest.rs"), "fn clock() -> i64 { chrono::Utc::now().timestamp() }")
        found = check(src, doc)
        assert any("src/text.rs: imports `store`" in p for p in found), found
        assert any(p.startswith("src/output/digest.rs:") and "clock" in p for p in found), found
        # A forbidden import inside a comment or a unit test does not count.
        with open(os.path.join(src, "model", "mod.rs"), "a", encoding="utf-8") as f:
            f.write("\n// crate::store is mentioned here\n#[cfg(test)]\nmod tests {\n    use crate::store::Store;\n}\n")
        assert not any("model" in p for p in check(src, doc)), check(src, doc)
    print("layers self-test: a forbidden import and a clock read are caught; comments and tests are not")


def main():
    if "--self-test" in sys.argv:
        self_test()
        return
    problems = check(os.path.join(REPO, "src"), os.path.join(REPO, "ARCHITECTURE.md"))
    for p in problems:
        print(p)
    if problems:
        sys.stdout.flush()
        sys.exit(f"{len(problems)} layering problem(s): see ARCHITECTURE.md")
    print(f"layers: {len(rules(os.path.join(REPO, 'ARCHITECTURE.md')))} module rules hold")


if __name__ == "__main__":
    main()
