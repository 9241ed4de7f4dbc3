/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-client.h: the command side of the session agent: connecting
 * to it, and starting it (`signetctl login`).
 *
 * The agent is this same program run as `signetctl agent` (found through
 * /proc/self/exe), in a new session (setsid), its standard streams on
 * /dev/null; it says on an inherited pipe when it listens. Errors:
 * SIGNETCTL_ERROR_NOT_SIGNED_IN when no agent answers on the socket,
 * SIGNETCTL_ERROR_AGENT when one cannot be started.
 */
#pragma once

#include <gio/gio.h>

#include "signetctl-agent-dbus.h"
#include "signetctl-config.h"

G_BEGIN_DECLS

/* A proxy of the agent on socket_path, with no call timeout (a device
 * step may take long). Returns: (transfer full) (nullable) */
SignetctlAgent1 *signetctl_client_connect     (const char             *socket_path,
                                               GError                **error);

/* Start an agent for config (service_url and ca_file set), idle_timeout
 * in seconds, and wait until it listens (at most 20 s). */
gboolean         signetctl_client_spawn_agent (const SignetctlConfig  *config,
                                               guint                   idle_timeout,
                                               GError                **error);

G_END_DECLS
