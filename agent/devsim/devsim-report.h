/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-report.h: the JSON a simulator prints about a device (provision
 * --json, status --json, run --json-status, the live status file). One
 * vocabulary for all of them; docs/devsim.md lists the members.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "devsim-probe.h"
#include "sa-agent.h"

G_BEGIN_DECLS

/* Members committed_version, pending_version, config_digest (hex),
 * clock_floor, revocation_version, boots, deadline_rollbacks. */
void  devsim_report_add_status   (JsonBuilder             *b,
                                  const sa_status         *status);

/* Members serial, model, firmware, capabilities, clock, certificate (PEM
 * of the leaf), certificate_sha256 (hex), chain_length. */
void  devsim_report_add_identity (JsonBuilder             *b,
                                  const DevsimDeviceInfo  *info);

/* The builder's root as one line of compact JSON, newline included.
 * Returns: (transfer full) */
char *devsim_report_to_line      (JsonBuilder             *b);

/* Lower-case hex. Returns: (transfer full) */
char *devsim_hex                 (const guint8            *data,
                                  gsize                    len);

G_END_DECLS
