/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-secret.h: wiping containers and constant-time comparison.
 *
 * Secrets (private scalars, TOTP secrets, passwords, AEAD keys) live in
 * memory only as long as needed and are overwritten before they are freed.
 * GBytes made here wipe their buffer when the last reference goes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Overwrite len bytes with zeros (OPENSSL_cleanse: never optimised out). */
void     signet_secret_wipe        (gpointer      p,
                                    gsize         len);

/* Wipe then g_free(); NULL is allowed. */
void     signet_secret_free        (gpointer      p,
                                    gsize         len);

/* Constant-time equality of two buffers of the same length. */
gboolean signet_secret_equal       (gconstpointer a,
                                    gconstpointer b,
                                    gsize         len);

/* Constant-time equality of two GBytes (lengths compared first; the length
 * of a secret is not itself secret here). NULL equals only NULL. */
gboolean signet_secret_bytes_equal (GBytes       *a,
                                    GBytes       *b);

/* A copy of data[0..len) in a GBytes that wipes itself when freed.
 * Returns: (transfer full) */
GBytes  *signet_secret_bytes_new   (gconstpointer data,
                                    gsize         len);

/* Take ownership of a g_malloc()'d buffer: the GBytes wipes and frees it.
 * Returns: (transfer full) */
GBytes  *signet_secret_bytes_new_take (gpointer   data,
                                       gsize      len);

/* A NUL-terminated string that holds a secret (a password, a base32 key):
 * use g_auto(SignetSecretString) so it is wiped when it goes out of scope. */
typedef char *SignetSecretString;
void     signet_secret_string_free (char         *s);
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (SignetSecretString, signet_secret_string_free, NULL)

G_END_DECLS
