/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-trust.h: the service authority keys a device is given at the
 * factory (DESIGN.md §2), taken from the token service's trust document.
 *
 * The input is what signetd answers to GET /v1/trust (docs/api.md):
 * {"authority_keys": [{"kid", "cose_key", "jwk", "current", "not_after"}],
 * ...}. Each key is read from its COSE_Key (base64url) or its JWK; when
 * both are there they must be the same key, and a COSE_Key's own kid must
 * be the entry's. Keys whose not_after has passed are left out (every
 * token they signed has expired). Other members of the document are not
 * the factory's business here and are ignored.
 *
 * The document comes from a file, or from the service over HTTPS with its
 * certificate pinned: only the CA (or self-signed certificate) the caller
 * names is trusted, never the system store.
 */
#pragma once

#include <glib.h>

#include "sa-agent.h"

G_BEGIN_DECLS

/* The keys of the document json[0..len) still valid at now, current
 * first, into out[0..SA_AUTHORITIES_MAX); DEVSIM_ERROR_INVALID if the
 * document is malformed, holds no valid key, or more than
 * SA_AUTHORITIES_MAX of them. */
gboolean  devsim_trust_parse  (const char     *json,
                               gsize           len,
                               gint64          now,
                               sa_authority   *out,
                               gsize          *n_out,
                               GError        **error);

/* GET url (https only; a URL without a path gets /v1/trust) trusting
 * only the certificates of the PEM file ca_file. Answers other than 200,
 * or larger than 1 MiB, are errors.
 * Returns: (transfer full) (nullable): the body */
GBytes   *devsim_trust_fetch  (const char     *url,
                               const char     *ca_file,
                               GError        **error);

G_END_DECLS
