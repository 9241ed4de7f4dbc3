/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-values.h: `--set key=value` as the profile types it.
 *
 * The command line gives every value as text; the profile's field says
 * what it is: "int" (decimal, optional sign), "bool" (true/false, yes/no,
 * on/off, 1/0), "string", or "enum" (one of its values). Secret fields
 * are refused: the service seals them from its vault. Ranges and lengths
 * are left to signet_device_session_validate (), which checks them
 * before anything is sent. Errors: SIGNETCTL_ERROR_USAGE, saying which
 * key and why.
 */
#pragma once

#include <glib.h>

#include "signet-service-client.h"

G_BEGIN_DECLS

/* Split "key=value" (the first '='; the key non-empty). */
gboolean  signetctl_values_split (const char  *arg,
                                  char       **out_key,
                                  char       **out_value,
                                  GError     **error);

/* settings is a{ss}; the a{sv} to apply.
 * Returns: (transfer full) (nullable): a non-floating a{sv} */
GVariant *signetctl_values_type  (const SignetServiceProfile *profile,
                                  GVariant                   *settings,
                                  GError                    **error);

G_END_DECLS
