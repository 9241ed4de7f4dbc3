/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-config.h: where signetctl finds the service, its state and
 * its agent. Command-line flags win over the environment
 * (SIGNET_SERVICE_URL, SIGNET_SERVICE_CA, SIGNET_SERVICE_PIN,
 * SIGNET_STATE_DIR, SIGNETCTL_SOCKET), which wins over
 * $XDG_CONFIG_HOME/signet/signetctl.conf ([service] url=, ca=, pin=; a
 * relative ca is relative to the file), which wins over the defaults
 * ($XDG_STATE_HOME/signet, $XDG_RUNTIME_DIR/signet/agent.socket).
 * Paths come out absolute. Errors: a configuration file that does not
 * parse (G_KEY_FILE_ERROR).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *service_url;
  char *ca_file;
  char *pin;
  char *state_dir;
  char *socket_path;
  char *config_file;   /* the file read, or NULL */
} SignetctlConfig;

/* Fill the members left NULL. */
gboolean signetctl_config_resolve (SignetctlConfig  *config,
                                   GError          **error);
void     signetctl_config_clear   (SignetctlConfig  *config);

G_END_DECLS
