/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-account.h: the user name remembered per service with libsecret
 * (schema "org.signet.Signet.Account", attribute "service" = the URL).
 * Only the user name: never a password or a code.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void   signet_account_lookup_username_async  (const char          *service_url,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
/* Returns: (transfer full) (nullable): NULL when none is remembered or
 * no secret service runs (not an error for the caller: it is logged) */
char  *signet_account_lookup_username_finish (GAsyncResult        *result);

/* Fire and forget: a failure (no secret service) is only logged. */
void   signet_account_store_username         (const char          *service_url,
                                              const char          *username);

G_END_DECLS
