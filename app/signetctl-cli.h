/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-cli.h: what the commands of signetctl share: the global
 * options, option parsing with them, and calls to the session agent
 * (with its progress shown on stderr).
 *
 * A command is int (*) (SignetctlCli *cli, int argc, char **argv), argv
 * starting at the command's name; it returns the exit status
 * (signetctl-error.h) and has printed its result or its error
 * (signetctl-output.h).
 */
#pragma once

#include <gio/gio.h>

#include "signetctl-agent-dbus.h"
#include "signetctl-config.h"

G_BEGIN_DECLS

typedef struct {
  SignetctlConfig config;
  gboolean json;
  gboolean quiet;
} SignetctlCli;

typedef int (*SignetctlCommandFunc) (SignetctlCli *cli,
                                     int           argc,
                                     char        **argv);

typedef struct {
  const char *name;           /* "apply", "log verify" */
  const char *parameters;     /* "DEVICE --profile ID ..." */
  const char *summary;        /* one line (N_) */
  const char *description;    /* examples (N_), nullable */
  SignetctlCommandFunc func;
} SignetctlCommand;

/* Parse argv with the command's entries (nullable) and the global ones,
 * then resolve the configuration. Returns -1 to go on, else the exit
 * status (help printed: 0; a usage error printed: 2). */
int       signetctl_cli_parse   (SignetctlCli           *cli,
                                 const SignetctlCommand *command,
                                 const GOptionEntry     *entries,
                                 int                    *argc,
                                 char                 ***argv);

/* A usage error for command: printed, with a pointer to --help. */
int       signetctl_cli_usage   (const SignetctlCommand *command,
                                 const char             *message);

/* Report error and return its exit status. */
int       signetctl_cli_fail    (const GError           *error);

/* Connect to the agent (SIGNETCTL_ERROR_NOT_SIGNED_IN if none).
 * Returns: (transfer full) (nullable) */
SignetctlAgent1 *signetctl_cli_agent (SignetctlCli      *cli,
                                      GError           **error);

/* Call method of the agent with parameters (floating taken; NULL: none),
 * running a main loop so that Progress signals are shown meanwhile.
 * Errors keep their domain and code. Returns: (transfer full) (nullable):
 * the reply's tuple */
GVariant *signetctl_cli_call    (SignetctlCli           *cli,
                                 SignetctlAgent1        *agent,
                                 const char             *method,
                                 GVariant               *parameters,
                                 GError                **error);

/* The commands (signetctl-cmd-*.c). */
int signetctl_cmd_login    (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_logout   (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_status   (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_step_up  (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_devices  (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_info     (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_attest   (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_profiles (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_apply    (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_commit   (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_rollback (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_log_verify (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_log_export (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_log_upload (SignetctlCli *cli, int argc, char **argv);
int signetctl_cmd_agent    (SignetctlCli *cli, int argc, char **argv);

/* The command table entry of name. Returns: (transfer none) (nullable) */
const SignetctlCommand *signetctl_cli_command (const char *name);

G_END_DECLS
