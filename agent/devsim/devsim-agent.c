/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "devsim-agent.h"
#include "signet-secret.h"

DevsimAgent *
devsim_agent_new (void)
{
  return g_new0 (DevsimAgent, 1);
}

void
devsim_agent_free (DevsimAgent *self)
{
  if (self == NULL)
    return;
  sa_agent_close (&self->agent);
  signet_secret_free (self, sizeof *self);
}
