"""The config file in deploy/kubernetes/configmap.yaml is one tariff-alertd
takes: `tariff-alertd --config FILE --print-config` accepts it (unknown keys
and bad values are errors naming file:line) and prints back what it holds.

Usage: configmap_config_test.py REPO_ROOT TARIFF_ALERTD
"""

import os
import subprocess
import sys
import tempfile

root, server = sys.argv[1:3]
with open(os.path.join(root, "deploy", "kubernetes", "configmap.yaml")) as f:
    text = f.read()
body = text.split("tariff-alertd.yaml: |", 1)[1]
lines = []
for line in body.splitlines():
    if line.startswith("    ") or not line.strip():
        lines.append(line[4:])
    else:
        break
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    f.write("\n".join(lines) + "\n")
    path = f.name
try:
    r = subprocess.run([server, "--config", path, "--print-config"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        sys.exit("FAIL: tariff-alertd refuses the ConfigMap's config: " + r.stderr)
    printed = {l.split(":", 1)[0]: l.split(":", 1)[1].strip()
               for l in r.stdout.splitlines() if l and not l.startswith("#") and ":" in l}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, value = [x.strip() for x in line.split(":", 1)]
        if printed.get(key, "").strip('"') != value.strip('"'):
            sys.exit("FAIL: %s: the file says %r, tariff-alertd took %r" %
                     (key, value, printed.get(key)))
    print("ok: %d keys taken as written" % sum(1 for l in lines if l.split("#")[0].strip()))
finally:
    os.unlink(path)
