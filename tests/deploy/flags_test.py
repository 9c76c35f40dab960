#!/usr/bin/env python3
"""Every flag that deploy/ and the Dockerfile pass to tariff-alertd,
tariff-console or tariff-alert exists in that binary's --help: the args of
the Kubernetes containers, the keys of the ConfigMap's config file, the
Dockerfile's ENTRYPOINT/CMD and the systemd units' example flags.

  flags_test.py SOURCE_DIR NODE_DIR TARIFF_ALERTD TARIFF_CONSOLE TARIFF_ALERT

The manifests are parsed with npm's yaml in NODE_DIR (install-node-deps.sh),
the parser the manifest test uses.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

src, node_dir, alertd, console, cli = sys.argv[1:6]
src = Path(src)


def yaml_documents(path):
    script = ("const Y=require(process.argv[1]+'/node_modules/yaml');"
              "const t=require('fs').readFileSync(process.argv[2],'utf8');"
              "console.log(JSON.stringify(Y.parseAllDocuments(t).map(d=>d.toJS())))")
    out = subprocess.run(["node", "-e", script, node_dir, str(path)],
                         capture_output=True, text=True, check=True, timeout=60)
    return [d for d in json.loads(out.stdout) if d]


BINARIES = {"tariff-alertd": alertd, "tariff-console": console, "tariff-alert": cli}
FLAG = re.compile(r"--[a-z][a-z0-9-]*")


def help_flags(binary, *sub):
    out = subprocess.run([binary, *sub, "--help"], capture_output=True, text=True, timeout=30)
    return set(FLAG.findall(out.stdout + out.stderr))


known = {name: help_flags(path) for name, path in BINARIES.items()}
uses = []  # (where, binary, flag)

# Kubernetes: each container's command names the binary; its args are flags.
for manifest in sorted((src / "deploy/kubernetes").glob("*.yaml")):
    for i, doc in enumerate(yaml_documents(manifest)):
        pod = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        for c in pod.get("containers", []):
            binary = Path((c.get("command") or [""])[0]).name
            if binary not in BINARIES:
                continue
            for arg in c.get("args", []):
                for flag in FLAG.findall(arg.split("=")[0]):
                    uses.append((f"{manifest.name}#{i} {c['name']}", binary, flag))
        if doc.get("kind") == "ConfigMap":
            for key, text in (doc.get("data") or {}).items():
                if key.startswith("tariff-alertd"):
                    for line in text.splitlines():
                        m = re.match(r"([a-z][a-z0-9_-]*)\s*:", line)
                        if m:
                            uses.append((f"{manifest.name} {key}", "tariff-alertd",
                                         "--" + m.group(1).replace("_", "-")))

# The Dockerfile: flags in its ENTRYPOINT and CMD go to its ENTRYPOINT binary.
dockerfile = (src / "Dockerfile").read_text()
entry = re.search(r'^ENTRYPOINT\s+\["([^"]+)"', dockerfile, re.M)
assert entry, "Dockerfile: no exec-form ENTRYPOINT"
for line in re.findall(r"^(?:ENTRYPOINT|CMD)\s+(.*)$", dockerfile, re.M):
    for flag in FLAG.findall(line):
        uses.append(("Dockerfile", Path(entry.group(1)).name, flag))

# systemd units: the flags in their comments and ExecStart lines.
for unit in sorted((src / "deploy/systemd").glob("*.service")):
    binary = "tariff-console" if "console" in unit.name else "tariff-alertd"
    for line in unit.read_text().splitlines():
        if re.search(r"\b(useradd|systemctl|cmake)\b", line):  # not the binary's flags
            continue
        for flag in FLAG.findall(line):
            uses.append((unit.name, binary, flag))

failures = [(w, b, f) for w, b, f in uses if f not in known[b]]
for w, b, f in failures:
    print(f"FAIL {w}: {b} has no {f} (not in its --help)")
print(f"{len(uses)} flag uses checked against --help, {len(failures)} missing")
sys.exit(1 if failures else 0)
