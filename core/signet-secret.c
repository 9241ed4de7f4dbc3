/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "signet-secret.h"

void
signet_secret_wipe (gpointer p,
                    gsize    len)
{
  if (p != NULL && len > 0)
    OPENSSL_cleanse (p, len);
}

void
signet_secret_free (gpointer p,
                    gsize    len)
{
  signet_secret_wipe (p, len);
  g_free (p);
}

gboolean
signet_secret_equal (gconstpointer a,
                     gconstpointer b,
                     gsize         len)
{
  return CRYPTO_memcmp (a, b, len) == 0;
}

gboolean
signet_secret_bytes_equal (GBytes *a,
                           GBytes *b)
{
  gsize la, lb;
  gconstpointer da, db;

  if (a == NULL || b == NULL)
    return a == b;
  da = g_bytes_get_data (a, &la);
  db = g_bytes_get_data (b, &lb);
  if (la != lb)
    return FALSE;
  return la == 0 || CRYPTO_memcmp (da, db, la) == 0;
}

typedef struct {
  gpointer data;
  gsize len;
} WipeInfo;

static void
wipe_info_free (gpointer user_data)
{
  WipeInfo *info = user_data;

  signet_secret_free (info->data, info->len);
  g_free (info);
}

GBytes *
signet_secret_bytes_new_take (gpointer data,
                              gsize    len)
{
  WipeInfo *info = g_new (WipeInfo, 1);

  info->data = data;
  info->len = len;
  return g_bytes_new_with_free_func (data, len, wipe_info_free, info);
}

GBytes *
signet_secret_bytes_new (gconstpointer data,
                         gsize         len)
{
  /* g_malloc(0) returns NULL; keep a real buffer so data is never NULL. */
  gpointer copy = g_malloc (MAX (len, 1));

  if (len > 0)
    memcpy (copy, data, len);
  return signet_secret_bytes_new_take (copy, len);
}

void
signet_secret_string_free (char *s)
{
  if (s != NULL)
    signet_secret_free (s, strlen (s));
}
