/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-run.h: a simulated device on a pseudo-terminal.
 *
 * The pty is the lowest interface the product uses for USB serial: a
 * CDC-ACM device appears to the host as a tty (/dev/ttyACM0), and the
 * tool's own tty code path -- open, raw mode, read, write, hang-up
 * handling -- runs unchanged against the pty's slave side. The simulator
 * holds the master side and plays the device's USB stack: bytes from the
 * master go to sa_link_receive (), the agent's answers go back to it.
 *
 * The master stays open for the simulator's whole life, whoever opens and
 * closes the slave. Linux reports "nobody has the slave open" on the
 * master as POLLHUP with read () failing with EIO, for as long as that
 * lasts, so a plain read watch would spin. The loop therefore drops its
 * read watch at the first hang-up (and with it any half-received frame
 * and unsent output, as a USB disconnect does), and polls the master
 * every DEVSIM_RUN_HANGUP_POLL_MS until POLLHUP clears -- someone opened
 * the slave again -- then watches it again. Before the slave was ever
 * opened there is no POLLHUP and nothing to read, so nothing special is
 * needed.
 *
 * The loop runs sa_agent_tick () every DEVSIM_RUN_TICK_MS, and ends
 * cleanly (exit status 0) on SIGTERM or SIGINT.
 *
 * Status: with json_status set, one JSON object per line is written to
 * that file descriptor (digits) or file: "ready" (pty, identity, seed),
 * "status" whenever the device's state changes (sa_status and flash
 * counters), "point" for each fault point the agent passes, "fault" for
 * each frame the fault injection touched, "hangup"/"reopen" for the
 * slave side, "exit". Each line is one write (), so a simulated power
 * loss never leaves half a line. The same state is kept in a live status
 * file beside the state file (devsim_run_live_path ()), which
 * `signet-devsim status` reads while the device runs.
 */
#pragma once

#include <glib.h>

#include "devsim-faults.h"

G_BEGIN_DECLS

/* The agent's fault points (sa_platform.fault_point), for --help. */
#define DEVSIM_FAULT_POINTS_HELP \
  "  apply.staged            the staged configuration is in its slot\n" \
  "  apply.before-journal    APPLY is about to write its journal record\n" \
  "  commit.before-journal   COMMIT ...\n" \
  "  rollback.before-journal ROLLBACK ...\n" \
  "  tick.before-journal     a commit deadline's rollback ...\n" \
  "  hello.before-journal    HELLO dropping a pending configuration ...\n" \
  "  boot.before-journal     boot recovery ...\n" \
  "  authorize.before-journal  AUTHORIZE raising the clock floor ...\n" \
  "  revocation.before-journal REVOCATION storing a new list ...\n" \
  "  bulk.before-journal     a bulk transfer saving its offset ..."

#define DEVSIM_RUN_TICK_MS 100
#define DEVSIM_RUN_HANGUP_POLL_MS 20
/* Unsent output kept for a slave side that does not read. */
#define DEVSIM_RUN_OUTPUT_MAX (1024 * 1024)

typedef struct {
  const char *state_path;
  gboolean ble;                    /* a GATT peripheral through BlueZ instead of a pty */
  const char *adapter;             /* --ble: nullable, "hci0" */
  gboolean l2cap;                  /* --ble: also an L2CAP channel */
  guint16 psm;                     /* ... on this PSM (0: dynamic) */
  const char *model_file;          /* nullable: the state file's ROM */
  const char *link_name;           /* nullable: a symlink to the pty */
  const char *json_status;         /* nullable: a file descriptor number or a file */
  DevsimFaultConfig faults;        /* the seed is also the torn-write seed */
  gboolean seed_given;             /* FALSE: a random seed, reported in "ready" */
  gboolean faults_in;              /* apply the link faults to what the device receives */
  gboolean faults_out;             /* ... and to what it sends */
  guint delay_ms;                  /* per outgoing frame */
  const char *crash_at;            /* nullable: POINT or POINT:N */
  guint64 crash_after_writes;      /* 0: never */
  guint slow_flash_us;
  gboolean nor_and;                /* AND writes into the flash instead of refusing */
  gboolean no_clock;
  gint64 clock_offset;
  const char * const *health_fail; /* nullable, NULL-terminated rules */
} DevsimRunOptions;

/* Run until a signal. Returns the exit status; FALSE and error when it
 * could not start (busy state file, no pty, a bad option). */
gboolean  devsim_run             (const DevsimRunOptions  *options,
                                  GError                 **error);

/* <state>.live.json. Returns: (transfer full) */
char     *devsim_run_live_path   (const char              *state_path);

G_END_DECLS
