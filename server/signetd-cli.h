/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-cli.h: the `signetd` command line.
 *
 *   signetd init --data-dir DIR [--tls-cert F --tls-key F] [--hostname H] [--listen A]
 *   signetd serve --data-dir DIR [--listen ADDR:PORT]
 *   signetd user add NAME --role R [--qr-png F]     (password on stdin)
 *   signetd user list [--json]
 *   signetd user disable|enable|reset-otp|unlock|delete NAME
 *   signetd ca add FILE.pem
 *   signetd revoke --session ID | --user NAME | --device SERIAL
 *   signetd key rotate
 *   signetd secret set NAME                         (value on stdin)
 *   signetd secret list [--json] | secret delete NAME
 *   signetd profile add FILE.json | profile list [--json] | profile remove ID
 *
 * Every command but init and serve works on the data dir directly; the
 * database is safe for a second connection while the server runs.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SIGNETD_EXIT_OK = 0,
  SIGNETD_EXIT_FAILURE = 1,
  SIGNETD_EXIT_USAGE = 2,
  SIGNETD_EXIT_NOT_FOUND = 3,
  SIGNETD_EXIT_EXISTS = 4,
} SignetdExit;

/* Run the command line; returns the exit status. */
int signetd_cli_main (int    argc,
                      char **argv);

G_END_DECLS
