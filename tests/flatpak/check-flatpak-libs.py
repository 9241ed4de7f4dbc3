#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every library the Flatpak'd app needs must come from the runtime or a module.

Reads flatpak/org.signet.Signet.json and checks two lists against it:

* run time: the DT_NEEDED sonames of the executables the app ships
  (signet, signetctl), read with readelf -d from this build;
* build time: the pkg-config dependencies meson finds when the project is
  configured with the config-opts of the manifest's own module (a scratch
  `meson setup` of this source tree with those options).

Each name must be listed in tests/flatpak/runtime-libs.txt (the GNOME runtime,
with provenance) or in the "x-signet-provides" of a manifest module. A new
dependency that neither covers fails the check, so it cannot be forgotten.

--self-test proves the check can fail: for each module whose libraries the app
needs, it drops that module from the manifest and expects a failure that names
them; and it adds a made-up soname and expects a failure too.

Exit status: 0 ok, 1 a library has no provider, 77 (skip) when readelf or
meson is missing.
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

SELF_MODULE = "signet"


def soname_stem(soname):
    """libgtk-4.so.1 -> libgtk-4"""
    return soname.split(".so", 1)[0]


def read_runtime_list(path):
    names = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split(None, 1)
            names[fields[0]] = fields[1] if len(fields) > 1 else ""
    return names


def module_providers(manifest):
    providers = {}
    for module in manifest.get("modules", []):
        if isinstance(module, str):  # an included file: not used here
            continue
        for name in module.get("x-signet-provides", []):
            providers[soname_stem(name) if ".so" in name else name] = module["name"]
    return providers


def own_module(manifest):
    for module in manifest.get("modules", []):
        if isinstance(module, dict) and module.get("name") == SELF_MODULE:
            return module
    raise SystemExit("check-flatpak-libs: the manifest has no module named %r" % SELF_MODULE)


# The sanitizers' runtimes: only in a -Db_sanitize build, never shipped.
SANITIZER_RUNTIMES = ("libasan.so", "libubsan.so", "liblsan.so", "libtsan.so", "libhwasan.so")


def needed_sonames(executables):
    found = {}
    for exe in executables:
        out = subprocess.run(["readelf", "-d", exe], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if "(NEEDED)" in line:
                soname = line.split("[", 1)[1].split("]", 1)[0]
                if soname.startswith(SANITIZER_RUNTIMES):
                    continue
                found.setdefault(soname, set()).add(os.path.basename(exe))
    return found


def pkgconfig_deps(meson, srcdir, options):
    with tempfile.TemporaryDirectory(prefix="signet-flatpak-intro-") as tmp:
        builddir = os.path.join(tmp, "build")
        res = subprocess.run([meson, "setup", builddir, srcdir] + options,
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.stdout.write(res.stdout[-3000:] + res.stderr[-3000:])
            raise SystemExit("check-flatpak-libs: meson setup %s failed" % " ".join(options))
        with open(os.path.join(builddir, "meson-info", "intro-dependencies.json")) as f:
            deps = json.load(f)
    return sorted({d["name"] for d in deps})


def check(manifest, runtime, needed, pcdeps, quiet=False):
    """Return the list of problems (empty when every name has a provider)."""
    providers = module_providers(manifest)
    problems = []
    used_modules = set()

    def provider(name):
        if name in providers:
            used_modules.add(providers[name])
            return "module " + providers[name]
        if name in runtime:
            return "runtime"
        return None

    lines = []
    for soname in sorted(needed):
        p = provider(soname_stem(soname))
        users = ", ".join(sorted(needed[soname]))
        if p is None:
            problems.append("%s (needed by %s) is neither in the runtime list nor built by "
                            "a manifest module" % (soname, users))
        lines.append("  run time   %-26s %-22s (%s)" % (soname, p or "MISSING", users))
    for name in pcdeps:
        p = provider(name)
        if p is None:
            problems.append("pkg-config %s (required to configure the app) is neither in "
                            "the runtime list nor built by a manifest module" % name)
        lines.append("  build time %-26s %s" % (name, p or "MISSING"))
    if not quiet:
        print("\n".join(lines))
        for module in manifest.get("modules", []):
            if isinstance(module, dict) and module.get("x-signet-provides") \
                    and module["name"] not in used_modules:
                print("  note: module %s provides %s, which the app does not use"
                      % (module["name"], ", ".join(module["x-signet-provides"])))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--runtime-libs", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--meson", default="meson")
    ap.add_argument("--self-test", action="store_true",
                    help="prove that removing a module or adding a dependency fails")
    ap.add_argument("executables", nargs="+")
    args = ap.parse_args()

    if shutil.which("readelf") is None or shutil.which(args.meson) is None:
        print("SKIP: readelf or meson not found")
        return 77

    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    runtime = read_runtime_list(args.runtime_libs)
    overlap = sorted(set(module_providers(manifest)) & set(runtime))
    if overlap:
        print("check-flatpak-libs: listed both as runtime and as a module: %s"
              % ", ".join(overlap))
        return 1

    needed = needed_sonames(args.executables)
    options = [o for o in own_module(manifest).get("config-opts", [])]
    pcdeps = pkgconfig_deps(args.meson, args.srcdir, options)
    print("manifest %s, app configured with: %s" % (os.path.basename(args.manifest),
                                                    " ".join(options) or "(defaults)"))

    if not args.self_test:
        problems = check(manifest, runtime, needed, pcdeps)
        for p in problems:
            print("FAIL: " + p)
        if problems:
            print("Add a module that builds it to the manifest (with \"x-signet-provides\"), "
                  "or, if the GNOME runtime has it, list it in runtime-libs.txt with its "
                  "provenance (docs/packaging.md).")
            return 1
        print("ok: every library the app needs comes from the runtime or a manifest module")
        return 0

    # Self-test: the real manifest passes; every needed module's removal fails.
    failures = 0
    if check(manifest, runtime, needed, pcdeps, quiet=True):
        print("FAIL: the real manifest does not pass (run the check without --self-test)")
        return 1
    needed_names = {soname_stem(s) for s in needed} | set(pcdeps)
    modules = [m for m in manifest["modules"]
               if isinstance(m, dict) and set(m.get("x-signet-provides", [])) & needed_names]
    if not modules:
        print("FAIL: no manifest module provides anything the app needs; nothing to remove")
        return 1
    for module in modules:
        trimmed = copy.deepcopy(manifest)
        trimmed["modules"] = [m for m in trimmed["modules"]
                              if not (isinstance(m, dict) and m.get("name") == module["name"])]
        problems = check(trimmed, runtime, needed, pcdeps, quiet=True)
        if problems:
            print("ok: without module %s the check fails: %s" % (module["name"], problems[0]))
        else:
            print("FAIL: removing module %s went unnoticed" % module["name"])
            failures += 1
    fake = dict(needed)
    fake["libsignet-new-dependency.so.1"] = {"signet"}
    problems = check(manifest, runtime, fake, pcdeps, quiet=True)
    if problems:
        print("ok: a new dependency fails the check: %s" % problems[0])
    else:
        print("FAIL: a new dependency went unnoticed")
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
