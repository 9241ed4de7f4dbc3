/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "signet-proto-error.h"

G_DEFINE_QUARK (signet-proto-error-quark, signet_proto_error)

gboolean
signet_proto_check (sp_err       err,
                    const char  *what,
                    GError     **error)
{
  if (err == SP_OK)
    return TRUE;
  g_set_error (error, SIGNET_PROTO_ERROR, (int) err, "%s: %s",
               what, sp_strerror (err));
  return FALSE;
}
