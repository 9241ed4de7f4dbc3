/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-agent.h: the memory of one simulated device's agent.
 *
 * A device declares sa_agent and sa_link statically; the simulator may run
 * two agents in one process (the probe's, on a snapshot, next to the
 * device's own), so it allocates them here, zeroed as sa_agent_boot ()
 * wants, and closes and wipes them when done (the agent holds the
 * device's key handles and session).
 */
#pragma once

#include <glib.h>

#include "sa-agent.h"

G_BEGIN_DECLS

typedef struct {
  sa_agent agent;
  sa_link link;
} DevsimAgent;

/* Returns: (transfer full) */
DevsimAgent *devsim_agent_new  (void);
void         devsim_agent_free (DevsimAgent *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimAgent, devsim_agent_free)

G_END_DECLS
