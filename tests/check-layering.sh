#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Dependencies point one way (DESIGN.md §1, STYLE.md rule 2):
# proto/ and agent/ never include GLib or GTK (agent/devsim/, the
# simulator's host glue, may: DESIGN.md §1); core/ and server/ never
# include GTK. Prints each violation and fails if there is any.
top=${1:-.}
status=0
check () {
  dir=$1; pattern=$2; what=$3; skip=${4:-}
  [ -d "$top/$dir" ] || return 0
  hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" \
         "$top/$dir" --include='*.c' --include='*.h' ${skip:+--exclude-dir="$skip"} 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "$dir/ must not include $what:"
    echo "$hits"
    status=1
  fi
}
check proto 'glib|gio/|gobject/|gtk/|adwaita|openssl/|curl/' 'GLib, GTK, OpenSSL or curl'
check agent 'glib|gio/|gobject/|gtk/|adwaita|openssl/' 'GLib, GTK or OpenSSL' devsim
check agent/devsim 'gtk/|adwaita' 'GTK'
check core 'gtk/|adwaita' 'GTK'
check server 'gtk/|adwaita' 'GTK'
[ $status -eq 0 ] && echo "layering: ok"
exit $status
