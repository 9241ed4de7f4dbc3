/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-agent.h: signetctl's session agent (docs/signetctl.md
 * "The session agent"), what `signetctl agent` runs.
 *
 * It holds, in memory only, one SignetSession (the token and its
 * proof-of-possession key) and the device sessions opened through it,
 * keyed by port and, after HELLO, by device serial, so that `apply` and a
 * later `commit` share one device session (a new HELLO would roll the
 * pending change back). It serves org.signet.Agent1
 * (org.signet.Agent1.xml) over peer-to-peer GDBus on a unix socket in a
 * 0700 directory, the socket 0600, to processes of the same user only
 * (G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER).
 *
 * It exits, signing out first (the event log ended, uploaded or left
 * queued, the key and token wiped), on SignOut, when the session
 * expires, after idle_timeout seconds without a call, on SIGTERM or
 * SIGINT, and after a SignIn that failed (nothing to hold).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *socket_path;   /* absolute */
  const char *state_dir;
  const char *service_url;
  const char *ca_file;
  const char *pin;           /* nullable: "sha256//..." */
  guint idle_timeout;        /* seconds; 0: never */
  int ready_fd;              /* -1: none; else "ready\n" or "error: ...\n" is written */
} SignetctlAgentOptions;

#define SIGNETCTL_AGENT_IDLE_TIMEOUT_DEFAULT (30 * 60)
#define SIGNETCTL_AGENT_OBJECT_PATH "/org/signet/Agent1"
/* A change of a critical profile needs a sign-in or step-up at most this
 * old (DESIGN.md §3 "Step-up"): asked for before sealing. */
#define SIGNETCTL_STEP_UP_MAX_AGE 300

/* Run the agent until it exits; its exit status. */
int      signetctl_agent_run         (const SignetctlAgentOptions *options);

/* Make the socket's directory (0700) if needed and check that it is a
 * directory of this user that nobody else can enter. */
gboolean signetctl_agent_check_dir   (const char  *socket_path,
                                      GError     **error);

G_END_DECLS
