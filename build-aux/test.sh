#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The one test command (README, .ci/run): install what is needed, then
# build and run every test suite twice — a normal -Werror build in _build/
# and an AddressSanitizer + UndefinedBehaviorSanitizer build in
# _build-asan/ — compile once more with clang (_build-clang/), run the demo
# headless, check the release tarball (build-aux/dist-check.sh), and print
# one summary line. Exit status 0 only if both builds pass every test, clang
# compiles cleanly, the demo ran and the tarball builds and passes its tests.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/build-aux/setup-debian.sh"

# Sanitizers: fail on the first report, including leaks and UB.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# The UI tests need a display and a session bus: every suite runs under a
# private Xvfb and D-Bus session (the packages come from setup-debian.sh).
# -noreset: by default Xvfb resets when its last client leaves, and a test
# that connects during the reset finds no display.
with_display () {
  if command -v xvfb-run >/dev/null 2>&1 && command -v dbus-run-session >/dev/null 2>&1; then
    dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24 -noreset" "$@"
  else
    "$@"
  fi
}

run_build () {
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  echo "== $dir: build"
  meson compile -C "$dir"
  echo "== $dir: test"
  with_display meson test -C "$dir" --print-errorlogs --num-processes 2
}

status=0
run_build _build || status=1
run_build _build-asan -Db_sanitize=address,undefined -Db_lundef=false || status=1

# clang with the same warnings as errors (the fuzzing build is clang, and
# it warns where gcc does not, e.g. unused g_autoptr variables): compile only.
echo "== _build-clang: build"
clang_ok=0
if [ -f _build-clang/build.ninja ]; then
  meson setup --reconfigure _build-clang >/dev/null || clang_ok=1
else
  CC=clang meson setup _build-clang >/dev/null || clang_ok=1
fi
[ $clang_ok -eq 0 ] && { meson compile -C _build-clang >/dev/null || { meson compile -C _build-clang | tail -n 30; clang_ok=1; }; }
[ $clang_ok -eq 0 ] || status=1

# The demo, headless, so it can never rot (README).
echo "== demo (headless)"
demo=0
/usr/bin/python3 build-aux/demo-headless.py _build/server/signetd _build/agent/devsim/signet-devsim _build/app/signetctl || { demo=1; status=1; }

# The release tarball (docs/release.md): `meson dist` from the committed
# tree, then build, unit + integration + flatpak suites and install from a
# clean unpack (~3 min). A working tree with uncommitted changes cannot be
# checked (git archive leaves them out): skipped outside CI, failed in CI.
echo "== dist (tarball: build, tests, install)"
dist=0
if [ -n "$(git status --porcelain 2>/dev/null || echo not-git)" ] && [ "${CI:-}" != true ]; then
  echo "dist: skipped, the working tree has uncommitted changes (build-aux/dist-check.sh after committing)"
  dist=skip
else
  build-aux/dist-check.sh _build-dist || { dist=1; status=1; }
fi

# One closing line over both builds, read from meson's own logs.
/usr/bin/python3 - "$demo" "$clang_ok" "$dist" _build/meson-logs/testlog.json _build-asan/meson-logs/testlog.json <<'PY'
import json, sys
def why(out):
    """A failed test's "not ok"/"Bail out" lines, each with the comment
    lines after it (where TAP producers here put the reason), bounded."""
    lines, keep = [], 0
    for l in out:
        if l.startswith("not ok") or l.startswith("Bail out"):
            keep = 12
            lines.append("    " + l[:300])
        elif keep and l.startswith("#"):
            keep -= 1
            lines.append("      " + l[:300])
        else:
            keep = 0
    return lines[:60]


counts = {"passed": 0, "failed": 0, "skipped": 0}
failed = []
for flag in sys.argv[1:4]:   # the headless demo, the clang build, the dist check
    counts["skipped" if flag == "skip" else "failed" if flag != "0" else "passed"] += 1
for path in sys.argv[4:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        counts["failed"] += 1
        failed.append("%s: no test log" % path)
        continue
    for line in lines:
        t = json.loads(line)
        r = t["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif r == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
            # CI shows only the tail of this script's output: name what failed
            # and the TAP lines that say why, so the failure is readable there.
            failed.append("%s: %s (%s)" % (path.split("/")[0], t["name"], r))
            failed += why((t.get("stdout") or "").splitlines())
for line in failed:
    print("failed: " + line)
print("signet: %(passed)d passed, %(failed)d failed, %(skipped)d skipped" % counts)
PY
exit $status
