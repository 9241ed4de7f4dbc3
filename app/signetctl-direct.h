/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-direct.h: `attest` and `info` without a session agent, in
 * this process (docs/signetctl.md "Without sign-in").
 *
 * Attesting needs no sign-in: GET /v1/trust is public, and a device
 * session without a service session says HELLO, ATTEST (verified here
 * against the trust document's manufacturer CAs and revocation list) and
 * BYE. No READ (it needs a token), no REVOCATION push, no event log
 * (there is no session to log to). When an agent runs, the commands go
 * through it instead: it may hold the tty, and a pending change belongs
 * to its device session (a HELLO from here would roll it back).
 */
#pragma once

#include <glib.h>

#include "signetctl-config.h"

G_BEGIN_DECLS

/* HELLO, ATTEST, BYE with the device that name gives ("serial:PATH", or
 * the USB serial of a device present), config's service and CA giving
 * the trust document. Errors keep their library domain and code; a port
 * that cannot be opened or a name nobody answers to is SIGNETCTL_ERROR
 * (DEVICE_UNREACHABLE, UNKNOWN_DEVICE, USAGE without --service/--ca).
 * Returns: (transfer full) (nullable): a{sv} as the agent's Attest gives,
 * with "verdict" "trusted" and "signed_in" FALSE */
GVariant *signetctl_direct_attest (const SignetctlConfig  *config,
                                   const char             *name,
                                   GError                **error);

G_END_DECLS
