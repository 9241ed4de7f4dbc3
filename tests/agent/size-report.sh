#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The device agent's size on a Cortex-M4 (DESIGN.md §9: at most 24 KiB of
# flash and 6 KiB of RAM, crypto excluded). Builds the proto sources the
# agent needs and agent/ with arm-none-eabi-gcc -Os, links them with a
# stub board (tests/agent/size/board-stub.c: the platform's crypto port,
# flash and UART, not counted) using --gc-sections, and prints per object
# what the linker kept -- .text (+ .rodata), .data, .bss -- the agent's
# static RAM (struct sa_agent, struct sa_link), the stack peak of each
# entry point from gcc's call graph (-fcallgraph-info=su; calls through
# the platform's function pointers are the platform's), and the totals
# against the targets. Two images: what a provisioned device runs, and
# the same with sa_provision () (a device that provisions itself at the
# factory).
#
# proto's CBOR writer calls libcbor's cbor_encode_*: the script fetches
# Debian's libcbor 0.8.0 orig tarball (sha256 pinned) into the build dir
# and compiles its two encoder files; when that is not possible it says
# so and uses tests/agent/size/cbor-encode-standin.c instead.
#
# Usage: size-report.sh SOURCE_ROOT BUILD_DIR. A meson benchmark
# (`meson test --benchmark agent-size`); exits 77 (skipped) without
# arm-none-eabi-gcc, and never fails on the numbers.
set -eu

src=$(cd "${1:-.}" && pwd)
build=${2:-${TMPDIR:-/tmp}}
CC=${ARM_CC:-arm-none-eabi-gcc}
PY=${PYTHON:-python3}

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "skipped: arm-none-eabi-gcc not installed"
  exit 77
fi

out=$build/agent-size
rm -rf "$out/obj" "$out/include"
mkdir -p "$out/obj" "$out/include"

# ---- libcbor's encoder ------------------------------------------------------
LIBCBOR_TARBALL=libcbor_0.8.0.orig.tar.gz
LIBCBOR_URL=http://deb.debian.org/debian/pool/main/libc/libcbor/$LIBCBOR_TARBALL
LIBCBOR_SHA256=618097166ea4a54499646998ccaa949a5816e6a665cf1d6df383690895217c8b
cbor_note=""
cbor_sources=""
tarball=$out/$LIBCBOR_TARBALL
if [ ! -f "$tarball" ]; then
  if command -v curl >/dev/null 2>&1; then
    curl -sfL --max-time 60 -o "$tarball.part" "$LIBCBOR_URL" 2>/dev/null || rm -f "$tarball.part"
  fi
  if [ ! -s "$tarball.part" ] && command -v apt-get >/dev/null 2>&1; then
    # apt-get source needs deb-src lines; try it quietly in a scratch dir.
    (cd "$out" && apt-get source --download-only -qq libcbor >/dev/null 2>&1) || true
    [ -f "$out/$LIBCBOR_TARBALL" ] && mv "$out/$LIBCBOR_TARBALL" "$tarball.part"
  fi
  [ -s "$tarball.part" ] && mv "$tarball.part" "$tarball"
  rm -f "$tarball.part"
fi
if [ -f "$tarball" ] &&
   echo "$LIBCBOR_SHA256  $tarball" | sha256sum -c --status 2>/dev/null; then
  rm -rf "$out/libcbor"
  mkdir -p "$out/libcbor"
  tar -xzf "$tarball" -C "$out/libcbor" --strip-components=1
  # Its headers, with the configuration Debian's build generated (same
  # version); the two files that hold cbor_encode_*.
  cp -r "$out/libcbor/src/cbor" "$out/include/"
  cp /usr/include/cbor/configuration.h /usr/include/cbor/cbor_export.h "$out/include/cbor/"
  cbor_sources="$out/libcbor/src/cbor/encoding.c $out/libcbor/src/cbor/internal/encoders.c"
  cbor_note="libcbor 0.8.0 encoder: Debian's orig tarball (sha256 verified)"
else
  rm -f "$tarball"
  cp -r /usr/include/cbor "$out/include/"
  cbor_sources="$src/tests/agent/size/cbor-encode-standin.c"
  cbor_note="libcbor source NOT available ($LIBCBOR_URL could not be fetched):
  cbor_encode_* measured with tests/agent/size/cbor-encode-standin.c, a
  stand-in of the same function (libcbor's own encoder is a few hundred
  bytes more or less)"
fi

# ---- compile ----------------------------------------------------------------
CFLAGS="-Os -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections -std=c99
  -Wall -Wextra -Wno-unused-parameter -Werror -fstack-usage -fcallgraph-info=su
  -I$src/proto -I$src/agent -I$out/include -I$out/include/cbor"
proto="sp-error sp-util sp-frame sp-cbor sp-cose-key sp-cose sp-cwt sp-evidence
  sp-revocation sp-hkdf sp-hpke sp-msg"
agent="sa-agent sa-link sa-provision sa-schema sa-store"

objs=""
for f in $proto; do
  extra=""
  [ "$f" = sp-frame ] && extra="-DSP_FRAME_SMALL"
  # shellcheck disable=SC2086
  $CC $CFLAGS $extra -c "$src/proto/$f.c" -o "$out/obj/$f.o"
  objs="$objs $out/obj/$f.o"
done
for f in $agent; do
  # shellcheck disable=SC2086
  $CC $CFLAGS -c "$src/agent/$f.c" -o "$out/obj/$f.o"
  objs="$objs $out/obj/$f.o"
done
for f in $cbor_sources; do
  n=$(basename "$f" .c)
  b=cbor-${n#cbor-}
  # shellcheck disable=SC2086
  $CC $CFLAGS -Wno-error -w -c "$f" -o "$out/obj/$b.o"
  objs="$objs $out/obj/$b.o"
done
mkdir -p "$out/board"
for image in device factory; do
  extra=""
  [ "$image" = factory ] && extra="-DWITH_PROVISION"
  # shellcheck disable=SC2086
  $CC $CFLAGS $extra -c "$src/tests/agent/size/board-stub.c" -o "$out/board/$image.o"
  # shellcheck disable=SC2086
  $CC -Os -mcpu=cortex-m4 -mthumb --specs=nano.specs --specs=nosys.specs \
    -Wl,--gc-sections -Wl,-Map="$out/$image.map" -o "$out/$image.elf" \
    "$out/board/$image.o" $objs
done

# ---- report -----------------------------------------------------------------
"$PY" - "$out" "$CC" "$cbor_note" <<'EOF'
import glob, os, re, subprocess, sys

out, cc, cbor_note = sys.argv[1], sys.argv[2], sys.argv[3]
FLASH_TARGET, RAM_TARGET = 24 * 1024, 6 * 1024

def kept(image):
    """What the linker kept, per input object (from the map file)."""
    sizes = {}
    section = None
    for line in open(os.path.join(out, image + ".map")):
        section = map_line(line, section, sizes)
    return sizes

def map_line(line, section, sizes):
    if line.startswith("Linker script and memory map"):
        return ""
    if section is None:
        return None
    m = re.match(r"^ (\.\S+|COMMON)\s*(0x[0-9a-f]+\s+0x[0-9a-f]+\s+(\S+))?\s*$", line)
    if m:
        section = m.group(1)
        if not m.group(2):
            return section
        parts = m.group(2).split()
    else:
        m2 = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S+\.o\)?)\s*$", line)
        if not m2 or not section:
            return section
        parts = [m2.group(1), m2.group(2), m2.group(3)]
    size, obj = int(parts[1], 16), parts[2]
    if size == 0:
        return section
    if section.startswith((".text", ".rodata")):
        kind = "text"
    elif section.startswith(".data"):
        kind = "data"
    elif section.startswith((".bss", "COMMON")):
        kind = "bss"
    else:
        return section
    name = os.path.basename(obj)
    if "(" in obj:                      # libc.a(lib_a-memcpy.o)
        name = "libc"
    sizes.setdefault(name, {"text": 0, "data": 0, "bss": 0})[kind] += size
    return section

factory = kept("factory")
sizes = kept("device")

ours = sorted(n for n in factory if n.startswith(("sp-", "sa-", "cbor-")))
print("Signet device agent, Cortex-M4 (arm-none-eabi-gcc -Os -mthumb, --gc-sections)")
print("  " + subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0])
print("  " + cbor_note)
print()
print("%-24s %7s %6s %6s   %s" % ("object (device image)", ".text", ".data", ".bss",
                                  "+ provisioning"))
tot = {"text": 0, "data": 0, "bss": 0}
ftot = 0
zero = {"text": 0, "data": 0, "bss": 0}
for n in ours:
    s = sizes.get(n, zero)
    f = factory.get(n, zero)
    print("%-24s %7d %6d %6d   %+d" % (n, s["text"], s["data"], s["bss"],
                                       f["text"] + f["data"] - s["text"] - s["data"]))
    for k in tot:
        tot[k] += s[k]
    ftot += f["text"] + f["data"]
print("%-24s %7d %6d %6d   %d" % ("total (agent+proto)", tot["text"], tot["data"], tot["bss"],
                                  ftot))
libc = sizes.get("libc", {"text": 0, "data": 0, "bss": 0})
print("%-22s %7d %6d %6d   (newlib-nano: memcpy, memcmp, ...; the platform's)"
      % ("libc", libc["text"], libc["data"], libc["bss"]))
print("(.text includes .rodata; not counted: the board stub, crypto port, startup code)")

# Static RAM of the agent: the structs a device declares.
syms = subprocess.run([cc.replace("gcc", "nm"), "-S", "--size-sort",
                       os.path.join(out, "device.elf")], capture_output=True, text=True).stdout
struct = {}
for line in syms.splitlines():
    f = line.split()
    if len(f) == 4 and f[3] in ("agent", "link"):
        struct[f[3]] = int(f[1], 16)

# Stack: the call graph of gcc's .ci files, worst path from each entry.
frames, edges = {}, {}
for ci in glob.glob(os.path.join(out, "obj", "*.ci")):
    text = open(ci).read()
    for m in re.finditer(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
        title, label = m.group(1), m.group(2)
        b = re.search(r"\\n(\d+) bytes \((static|dynamic|dynamic,bounded)\)", label)
        if b:
            frames[title] = max(frames.get(title, 0), int(b.group(1)))
    for m in re.finditer(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
        edges.setdefault(m.group(1), set()).add(m.group(2))

def peak(fn, seen=()):
    if fn in seen:
        return 0, [fn + " (recursion!)"]
    best, path = 0, []
    for callee in edges.get(fn, ()):
        d, p = peak(callee, seen + (fn,))
        if d > best:
            best, path = d, p
    return frames.get(fn, 0) + best, [fn] + path

print()
print("stack, worst path from each entry point (bytes; calls into the platform excluded):")
session_peak = 0
for entry in ("sa_link_receive", "sa_agent_handle", "sa_agent_tick", "sa_agent_boot",
              "sa_provision"):
    d, p = peak(entry)
    if entry in ("sa_link_receive", "sa_agent_handle", "sa_agent_tick", "sa_agent_boot"):
        session_peak = max(session_peak, d)
    names = [x.rsplit(":", 1)[-1] for x in p]
    print("  %-16s %5d  %s" % (entry, d, " > ".join(names[:8]) + (" > ..." if len(p) > 8 else "")))
print("  (sa_provision runs once, at the factory, before the agent exists)")

flash = tot["text"] + tot["data"]
fflash = ftot
ram = struct.get("agent", 0) + struct.get("link", 0) + tot["data"] + tot["bss"] + session_peak
print()
print("RAM:   struct sa_agent %d + struct sa_link %d + .data/.bss %d + stack peak %d"
      % (struct.get("agent", 0), struct.get("link", 0), tot["data"] + tot["bss"], session_peak))
print("flash: %6d bytes (%.1f KiB) of %d KiB: %s   (device image)"
      % (flash, flash / 1024, FLASH_TARGET // 1024, "OK" if flash <= FLASH_TARGET else "OVER"))
print("flash: %6d bytes (%.1f KiB) of %d KiB: %s   (with sa_provision, a factory image)"
      % (fflash, fflash / 1024, FLASH_TARGET // 1024,
         "OK" if fflash <= FLASH_TARGET else "OVER"))
print("RAM:   %6d bytes (%.1f KiB) of %d KiB: %s"
      % (ram, ram / 1024, RAM_TARGET // 1024, "OK" if ram <= RAM_TARGET else "OVER"))
EOF
