/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-platform.h: the sa_platform of the simulator -- what a device's
 * board support gives the agent, made of host parts.
 *
 *  - crypto: the simulator borrows the tool's OpenSSL port,
 *    signet_crypto_port_openssl () (core/signet-crypto-port.h). A real
 *    device brings its own port (its secure element, mbedTLS, ...); the
 *    agent never knows the difference, which is the point of the port.
 *  - flash: a DevsimFlash (file-backed NOR flash, devsim-flash.h).
 *  - clock: the host's clock, optionally shifted, or none at all (a device
 *    without a real-time clock, which then lives on its clock floor).
 *  - health check: passes, unless rules given for tests say otherwise.
 *  - fault points: reported to a callback (the run loop logs them) and,
 *    for power-loss tests, one of them can end the process on the spot.
 *
 * Ownership: the platform borrows the flash, which must outlive it. The
 * sa_platform it hands out points into the DevsimPlatform itself and is
 * valid until it is freed.
 */
#pragma once

#include <glib.h>

#include "devsim-flash.h"
#include "sa-agent.h"

G_BEGIN_DECLS

typedef struct _DevsimPlatform DevsimPlatform;

/* Called at each fault point the agent passes, before any crash. */
typedef void (*DevsimPointFunc) (const char *point,
                                 gpointer    user_data);

/* Returns: (transfer full) */
DevsimPlatform    *devsim_platform_new              (DevsimFlash     *flash);
void               devsim_platform_free             (DevsimPlatform  *self);

/* Returns: (transfer none) */
const sa_platform *devsim_platform_get              (DevsimPlatform  *self);

/* has_clock FALSE: clock_now reports no clock. offset is added to the
 * host's time (tests move a device's clock with it). */
void               devsim_platform_set_clock        (DevsimPlatform  *self,
                                                     gboolean         has_clock,
                                                     gint64           offset);

/* End the process (_exit (DEVSIM_EXIT_POWER_LOSS)) when the agent reaches
 * point for the nth time (nth >= 1). spec is "POINT" or "POINT:N". */
gboolean           devsim_platform_set_crash_at     (DevsimPlatform  *self,
                                                     const char      *spec,
                                                     GError         **error);

/* A health-check rule: a staged configuration whose KEY has VALUE (its
 * text, decimal integer, or true/false) fails the check. "*" fails every
 * check. */
gboolean           devsim_platform_add_health_rule  (DevsimPlatform  *self,
                                                     const char      *rule,
                                                     GError         **error);

void               devsim_platform_set_point_func   (DevsimPlatform  *self,
                                                     DevsimPointFunc  func,
                                                     gpointer         user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimPlatform, devsim_platform_free)

G_END_DECLS
