/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-error.h: signetctl's own error domain, and the one place where
 * every GError that reaches signetctl becomes an exit status and a stable
 * name (docs/signetctl.md "Exit status").
 *
 * Errors cross the agent's D-Bus connection with their domain and code:
 * GDBus names an unregistered domain after its quark and re-creates the
 * GError on the client when that quark exists there, which
 * signetctl_error_init () makes sure of for every domain below (and
 * registers SIGNETCTL_ERROR under a D-Bus name of its own).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIGNETCTL_ERROR (signetctl_error_quark ())
GQuark signetctl_error_quark (void);

typedef enum {
  SIGNETCTL_ERROR_FAILED,             /* 1: anything else */
  SIGNETCTL_ERROR_USAGE,              /* 2: bad options, --set syntax, unknown key or profile */
  SIGNETCTL_ERROR_NOT_SIGNED_IN,      /* 3: no agent runs (nobody signed in) */
  SIGNETCTL_ERROR_ALREADY_SIGNED_IN,  /* 1: login while an agent holds a session */
  SIGNETCTL_ERROR_UNKNOWN_DEVICE,     /* 7: not serial:PATH, nor a serial the agent knows */
  SIGNETCTL_ERROR_DEVICE_UNREACHABLE, /* 7: the device could not be opened */
  SIGNETCTL_ERROR_AGENT,              /* 1: the agent could not be started or reached */
  SIGNETCTL_ERROR_LOG_INVALID,        /* 8: a log that does not verify */
  SIGNETCTL_ERROR_LOG_UNCHECKED,      /* 10: chain intact, seals not checked (no key) */
  SIGNETCTL_ERROR_UPLOAD_QUEUED,      /* 7: logs stay queued */
} SignetctlError;

/* Exit statuses (docs/signetctl.md). */
typedef enum {
  SIGNETCTL_EXIT_OK = 0,
  SIGNETCTL_EXIT_FAILURE = 1,
  SIGNETCTL_EXIT_USAGE = 2,
  SIGNETCTL_EXIT_AUTH = 3,
  SIGNETCTL_EXIT_STEP_UP = 4,
  SIGNETCTL_EXIT_REFUSED = 5,
  SIGNETCTL_EXIT_UNTRUSTED = 6,
  SIGNETCTL_EXIT_UNREACHABLE = 7,
  SIGNETCTL_EXIT_LOG_INVALID = 8,
  SIGNETCTL_EXIT_DEVICE_FAILED = 9,
  SIGNETCTL_EXIT_LOG_UNCHECKED = 10,
} SignetctlExit;

/* Make every error domain signetctl may see known to this process (call
 * once, early, in the CLI and the agent). */
void        signetctl_error_init      (void);

/* The exit status for error (not NULL). */
int         signetctl_error_exit_code (const GError *error);

/* A stable, lower-case name of the error's code ("wrong-device",
 * "invalid-credentials"), "unknown" for a code not listed.
 * Returns: (transfer none) */
const char *signetctl_error_name      (const GError *error);

/* Remove the "GDBus.Error:...: " prefix of an error that came over D-Bus. */
void        signetctl_error_strip     (GError *error);

/* TRUE if error means: ask for a fresh code and step up. */
gboolean    signetctl_error_is_step_up (const GError *error);

G_END_DECLS
