#!/usr/bin/env python3
"""Keep the example pipelines working: parse both YAML files, check they upload SARIF,
JUnit and the findings, and run their synfin commands here (the install steps are the
test's: synfin comes from SYNFIN_BIN's directory on PATH). The baseline file they name
is made from a first run's groups, so the second run must pass: the job fails on new
findings only.

usage: check_pipelines.py DIR   (a scratch directory; exit 0 ok, 1 failure, 77 skip)"""
import os
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("python3-yaml missing: skipped")
    sys.exit(77)

here = os.path.dirname(os.path.abspath(__file__))
work = sys.argv[1]
fail = 0


def check(cond, what):
    global fail
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fail = 1


gh = yaml.safe_load(open(os.path.join(here, "github-actions.yml")))
gl = yaml.safe_load(open(os.path.join(here, "gitlab-ci.yml")))
steps = gh["jobs"]["tcp-conformance"]["steps"]
uses = [s.get("uses", "") for s in steps]
check(any(u.startswith("github/codeql-action/upload-sarif") for u in uses), "github: SARIF upload")
check(any(u.startswith("actions/upload-artifact") for u in uses), "github: artifacts")
gh_cmds = [line for s in steps for line in s.get("run", "").splitlines()
           if line.strip().startswith("synfin ")]
gl_cmds = [c for c in gl["synfin"]["script"] if c.startswith("synfin ")]
check(gl["synfin"]["artifacts"]["reports"]["junit"] == "synfin-ci/junit.xml", "gitlab: junit report")
check(len(gh_cmds) == 1 and len(gl_cmds) == 1, "one synfin command in each")

env = dict(os.environ)
env["PATH"] = os.path.dirname(os.environ["SYNFIN_BIN"]) + ":" + env["PATH"]
env["SYNFIN_CI_TIME"] = "2"
# the corpora an installed synfin has in share/synfin: here the source tree's
env.setdefault("SYNFIN_SRC", os.path.dirname(os.path.dirname(here)))
for name, cmd in (("github", gh_cmds[0]), ("gitlab", gl_cmds[0])):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, "synfin-baseline.txt")
    open(base, "w").close()
    r1 = subprocess.run(cmd + " -- -seed=7", shell=True, cwd=d, env=env,
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(r1.returncode == 1, "%s: first run finds new groups on lwip (exit %d)" % (name, r1.returncode))
    if r1.returncode != 1:
        print(r1.stdout[-2000:])
        sys.exit(1)
    for f in ("junit.xml", "synfin.sarif", "summary.json", "summary.md"):
        check(os.path.exists(os.path.join(d, "synfin-ci", f)), "%s: synfin-ci/%s" % (name, f))
    import json
    groups = json.load(open(os.path.join(d, "synfin-ci", "summary.json")))
    keys = [g["group"] for g in groups["causes"]]
    check(len(keys) > 0, "%s: groups in summary.json" % name)
    with open(base, "w") as f:
        f.write("# accepted\n" + "\n".join(keys) + "\n")
    # the same findings, nothing new: green
    r2 = subprocess.run(cmd.replace('--time "${SYNFIN_CI_TIME:-120}"', "--time 0"), shell=True,
                        cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(r2.returncode == 0, "%s: with those groups baselined the job passes (exit %d)" % (name, r2.returncode))
    if r2.returncode != 0:
        print(r2.stdout[-2000:])
sys.exit(fail)
