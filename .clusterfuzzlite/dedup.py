#!/usr/bin/env python3
"""Group crash logs the way ClusterFuzz does: by crash type and the top three stack
frames that are not the C library's, the sanitizer's or libFuzzer's own.

usage: dedup.py LOG...   prints one line per distinct crash; exit 1 if two different
synfin divergence signatures fall into one crash, or one signature into two."""
import re
import sys

SKIP = re.compile(r"^(abort|raise|gsignal|__GI_|__libc_|__pthread_kill|pthread_kill|__sanitizer|"
                  r"__asan|__interceptor_|"
                  r"fuzzer::|std::|__cxa_|_start|libc_start)|^$")
ERROR = re.compile(r"==\d+==\s*ERROR: (\S+): (.*)$")
FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+ in (\S+)")
SUMMARY = re.compile(r"^SUMMARY: synfin: divergence (.*)$")
SIGLINE = re.compile(r"^\s+signature: (.*)$")


def crash_of(text):
    ctype, frames, sig, started = None, [], None, False
    for line in text.splitlines():
        m = SIGLINE.match(line)
        if m and sig is None:
            sig = m.group(1)
        m = ERROR.search(line)
        if m and m.group(1) != "synfin" and ctype is None:
            ctype, started = m.group(1) + ": " + m.group(2), True
            continue
        if started:
            m = FRAME.match(line)
            if m and not SKIP.match(m.group(2)) and len(frames) < 3:
                frames.append(m.group(2))
    if ctype is None:
        return None
    return ctype, tuple(frames), sig


def main(logs):
    crashes = {}
    for path in logs:
        with open(path, errors="replace") as f:
            c = crash_of(f.read())
        if c is None:
            continue
        key = (c[0], c[1])
        crashes.setdefault(key, set()).add(c[2] or "(a crash of the stack itself)")
    by_sig = {}
    for key, sigs in crashes.items():
        for s in sigs:
            by_sig.setdefault(s, set()).add(key)
    bad = 0
    for key, sigs in sorted(crashes.items()):
        print("%s | %s | %s" % (key[0], " < ".join(key[1]), ", ".join(sorted(sigs))))
        real = [s for s in sigs if not s.startswith("(")]
        if len(real) > 1:
            print("  MERGED: %d signatures share these frames" % len(real))
            bad = 1
    for s, keys in by_sig.items():
        if not s.startswith("(") and len(keys) > 1:
            print("  SPLIT: %s is %d crashes" % (s, len(keys)))
            bad = 1
    sigs = [s for s in by_sig if not s.startswith("(")]
    print("%d distinct crashes, %d divergence signatures, %d crash logs" %
          (len(crashes), len(sigs), len(logs)))
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
