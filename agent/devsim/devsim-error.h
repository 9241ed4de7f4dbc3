/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-error.h: the one GError domain of signet-devsim.
 *
 * The simulator is one small program, not a library: its modules share a
 * domain whose codes say what kind of thing went wrong, and the messages
 * say where. Exit statuses of the program are here too, since tests rely
 * on them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DEVSIM_ERROR (devsim_error_quark ())
GQuark devsim_error_quark (void);

typedef enum {
  DEVSIM_ERROR_FAILED,       /* the host failed (I/O, OpenSSL, the network) */
  DEVSIM_ERROR_INVALID,      /* bad input: a model file, a trust file, an argument */
  DEVSIM_ERROR_EXISTS,       /* the state file or CA is already there */
  DEVSIM_ERROR_NOT_FOUND,    /* no such state file, CA or model */
  DEVSIM_ERROR_BUSY,         /* the state file is in use by another devsim */
  DEVSIM_ERROR_FLASH,        /* the flash refused an operation (range, NOR rules) */
  DEVSIM_ERROR_AGENT,        /* the agent failed (provisioning, boot) */
} DevsimError;

/* Exit statuses of signet-devsim. */
#define DEVSIM_EXIT_OK 0
#define DEVSIM_EXIT_FAILURE 1
#define DEVSIM_EXIT_USAGE 2
/* A simulated power loss (--crash-at, --crash-after-writes): the process
 * ends with _exit() at once, without cleanup, as a device losing power. */
#define DEVSIM_EXIT_POWER_LOSS 99

G_END_DECLS
