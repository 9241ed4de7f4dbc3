#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# What the `ble` suite runs in the QEMU guest (one boot, many tests):
# the real-BlueZ tests and the benchmark. Prints TAP.
# Usage: run-in-guest.sh SIGNET_DEVSIM MODELS_DIR
HERE=$(dirname "$0")
exec /usr/bin/python3 "$HERE/test_ble_real.py" "$1" "$2" --bench
