#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The BLE benchmark over the real BlueZ, in the QEMU guest (suite `ble`,
# from run-in-guest.sh; docs/ble.md "Benchmarks"): tests/bench/
# bench-ble-bluez at ATT MTU 23, 185 and 247 (bench_ble.py). Prints TAP
# comments; a failure is a "Bail out!".
# Usage: bench.sh SIGNET_DEVSIM MODELS_DIR [BENCH_BLE_BLUEZ [MTU...]]
# (BENCH_BLE_BLUEZ defaults to the build tree's, next to SIGNET_DEVSIM's.)
HERE=$(dirname "$0")
DEVSIM=$1
MODELS=$2
shift 2
if [ $# -gt 0 ]; then
  BENCH=$1
  shift
else
  BENCH=$(dirname "$(dirname "$(dirname "$DEVSIM")")")/tests/bench/bench-ble-bluez
fi
exec /usr/bin/python3 "$HERE/bench_ble.py" "$DEVSIM" "$MODELS" "$BENCH" "$@"
