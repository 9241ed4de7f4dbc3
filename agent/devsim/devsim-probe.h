/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-probe.h: what a simulated device says about itself, asked
 * through the agent's own API on a copy of its flash.
 *
 * The probe boots a second agent on a SNAPSHOT of the state file (its
 * writes stay in memory), then sends it HELLO and ATTEST with
 * sa_agent_handle (), as the tool would, and reads sa_agent_get_status ().
 * Nothing of the device changes, and the answer is what the device would
 * say after its next boot: a pending configuration found at boot is rolled
 * back (docs/protocol.md, "What a device keeps"), so pending_version is
 * always 0 here. A running simulator reports its pending slot itself
 * (devsim-run.h, the live status file).
 */
#pragma once

#include <glib.h>

#include "devsim-flash.h"
#include "devsim-model.h"
#include "sa-agent.h"

G_BEGIN_DECLS

typedef struct {
  char *serial;
  char *model;
  char *firmware;
  guint64 config_version;     /* HELLO's: the committed version */
  guint64 capabilities;
  gboolean has_clock;
  guint64 device_time;
  guint64 revocation_version;
  GPtrArray *chain;           /* (element-type GBytes): DER, leaf first */
  sa_status status;
} DevsimDeviceInfo;

/* Boot an agent with model's schema on flash (which must be a SNAPSHOT:
 * the agent's boot writes) and ask it. DEVSIM_ERROR_AGENT if it does not
 * boot or answers something unexpected.
 * Returns: (transfer full) (nullable) */
DevsimDeviceInfo *devsim_probe              (DevsimFlash       *flash,
                                             DevsimModel       *model,
                                             GError           **error);

void              devsim_device_info_free   (DevsimDeviceInfo  *info);

/* The request and response codec the probe uses, for the run loop's
 * diagnostics too: a request of type with id and an optional byte-string
 * body key 2. Returns: (transfer full) */
GBytes           *devsim_probe_request      (guint              type,
                                             guint32            id,
                                             const guint8      *body,
                                             gsize              body_len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimDeviceInfo, devsim_device_info_free)

G_END_DECLS
