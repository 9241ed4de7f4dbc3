#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run-tool.sh PACKAGE TOOL ARG...: run TOOL with its arguments, or skip
# the test (exit 77) when TOOL is not installed — only then.
# build-aux/setup-debian.sh installs PACKAGE, so CI never skips.
set -eu
package=$1
tool=$2
shift 2
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "SKIP: $tool not found (package $package)"
  exit 77
fi
exec "$tool" "$@"
