#!/usr/bin/env python3
"""Checks the Dockerfile statically (no image can be built here):
- every FROM is debian:bookworm, the first stage builds, the last runs;
- the build stage installs its packages with scripts/install-deps.sh --build
  (so exactly the script's BUILD_PACKAGES) or, if it lists them, a superset;
- the runtime stage installs exactly the Debian packages that own the shared
  libraries the three binaries link (ldd + dpkg -S), less libc6 and
  libgcc-s1 which every Debian image has;
- a USER that is not root, an ENTRYPOINT, an EXPOSE;
- every COPY source from the build context exists in the repo and is not
  excluded by .dockerignore.

  dockerfile_test.py SOURCE_DIR TARIFF_ALERTD TARIFF_CONSOLE TARIFF_ALERT
"""
import fnmatch
import re
import subprocess
import sys
from pathlib import Path

src = Path(sys.argv[1])
binaries = sys.argv[2:5]
failures = []


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg)
    if not ok:
        failures.append(msg)


text = (src / "Dockerfile").read_text().replace("\\\n", " ")
lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
stages = []
for line in lines:
    word, _, rest = line.partition(" ")
    if word.upper() == "FROM":
        stages.append({"from": rest.split()[0], "lines": []})
    elif stages:
        stages[-1]["lines"].append((word.upper(), rest.strip()))
check(len(stages) >= 2, f"multi-stage: {len(stages)} stages")
for s in stages:
    check(s["from"] == "debian:bookworm", f"FROM {s['from']} is debian:bookworm")


def apt_packages(stage):
    pkgs = set()
    for word, rest in stage["lines"]:
        if word != "RUN":
            continue
        for cmd in re.split(r"&&|;", rest):
            m = re.search(r"apt-get\s+install\s+(.*)", cmd)
            if m:
                pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def script_array(name):
    script = (src / "scripts/install-deps.sh").read_text()
    m = re.search(rf"^{name}=\((.*?)^\)", script, re.M | re.S)
    body = "\n".join(l.split("#")[0] for l in m.group(1).splitlines())
    return {w for w in body.split() if not w.startswith('"$')}


build, runtime = stages[0], stages[-1]
build_pkgs = script_array("BUILD_PACKAGES")
runs = " ".join(rest for word, rest in build["lines"] if word == "RUN")
if "scripts/install-deps.sh --build" in runs:
    check(True, f"build stage runs scripts/install-deps.sh --build ({len(build_pkgs)} packages)")
else:
    missing = build_pkgs - apt_packages(build)
    check(not missing, f"build stage installs install-deps.sh's build packages (missing: {sorted(missing)})")

linked = set()
for b in binaries:
    for lib in re.findall(r"=>\s+(/\S+)", subprocess.run(["ldd", b], capture_output=True, text=True).stdout):
        real = str(Path(lib).resolve())
        for candidate in (lib, real, re.sub(r"^/usr", "", real)):
            out = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if out.returncode == 0:
                linked.add(out.stdout.split(":")[0])
                break
        else:
            check(False, f"{b}: no Debian package owns {lib}")
linked -= {"libc6", "libgcc-s1"}
have = apt_packages(runtime)
check(have == linked, "runtime stage installs exactly the linked libraries' packages"
      f" (missing: {sorted(linked - have)}, not linked: {sorted(have - linked)})")

users = [rest for word, rest in runtime["lines"] if word == "USER"]
check(bool(users) and users[-1].split(":")[0] not in ("root", "0"), f"runtime USER {users[-1] if users else None} is not root")
check(any(w == "ENTRYPOINT" for w, _ in runtime["lines"]), "runtime has an ENTRYPOINT")
check(any(w == "EXPOSE" for w, _ in runtime["lines"]), "runtime EXPOSEs its ports")

ignore = [l.strip() for l in (src / ".dockerignore").read_text().splitlines()
          if l.strip() and not l.startswith("#")]


def ignored(rel):
    for pat in ignore:
        pat = pat.rstrip("/").removeprefix("**/")
        if any(fnmatch.fnmatch(part, pat) for part in [rel, *Path(rel).parts]):
            return True
    return False


for s in stages:
    for word, rest in s["lines"]:
        if word not in ("COPY", "ADD") or "--from=" in rest:
            continue
        args = [a for a in rest.split() if not a.startswith("--")]
        for source in args[:-1]:
            if source == ".":
                continue
            matches = list(src.glob(source))
            check(bool(matches) and not ignored(source), f"COPY {source} exists in the repo and is in the build context")
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
