/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-proto-error.h: libsignet-proto's sp_err as a GError.
 *
 * The one place where proto's error codes are translated: the GError code
 * is the sp_err value itself, the message says what was being done and why
 * it failed, e.g. "Service token: signature verification failed".
 */
#pragma once

#include <glib.h>

#include "sp-error.h"

G_BEGIN_DECLS

#define SIGNET_PROTO_ERROR (signet_proto_error_quark ())
GQuark   signet_proto_error_quark (void);

/* If err is SP_OK return TRUE; otherwise set error (domain
 * SIGNET_PROTO_ERROR, code err) to "<what>: <reason>" and return FALSE.
 * what is a short, human-readable subject ("COSE_Sign1", "frame"). */
gboolean signet_proto_check       (sp_err       err,
                                   const char  *what,
                                   GError     **error);

G_END_DECLS
