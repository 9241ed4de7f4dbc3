/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-base64url.h"
#include "signet-secret.h"

G_DEFINE_QUARK (signet-base64url-error-quark, signet_base64url_error)

static const char alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of c, or -1 for anything outside the URL-safe alphabet
 * (padding, whitespace, '+', '/', NUL, bytes >= 0x80). */
static int
value_of (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

gsize
signet_base64url_encode_into (const guint8 *data,
                              gsize         len,
                              char         *out)
{
  gsize i, o = 0;

  g_return_val_if_fail (data != NULL || len == 0, 0);
  g_return_val_if_fail (out != NULL, 0);

  for (i = 0; i + 3 <= len; i += 3)
    {
      guint32 v = (guint32) data[i] << 16 | (guint32) data[i + 1] << 8 | data[i + 2];

      out[o++] = alphabet[(v >> 18) & 63];
      out[o++] = alphabet[(v >> 12) & 63];
      out[o++] = alphabet[(v >> 6) & 63];
      out[o++] = alphabet[v & 63];
    }
  if (len - i == 1)
    {
      guint32 v = (guint32) data[i] << 16;

      out[o++] = alphabet[(v >> 18) & 63];
      out[o++] = alphabet[(v >> 12) & 63];
    }
  else if (len - i == 2)
    {
      guint32 v = (guint32) data[i] << 16 | (guint32) data[i + 1] << 8;

      out[o++] = alphabet[(v >> 18) & 63];
      out[o++] = alphabet[(v >> 12) & 63];
      out[o++] = alphabet[(v >> 6) & 63];
    }
  out[o] = '\0';
  return o;
}

/**
 * signet_base64url_encode:
 * @data: (array length=len) (nullable): the bytes
 * @len: their number
 *
 * Returns: (transfer full): base64url without padding, NUL-terminated
 */
char *
signet_base64url_encode (const guint8 *data,
                         gsize         len)
{
  char *out;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  /* No overflow: len is the size of an object in memory, so 4 * len / 3
   * fits unless len is within a third of G_MAXSIZE. */
  g_return_val_if_fail (len <= G_MAXSIZE / 4 * 3 - 3, NULL);

  out = g_malloc (SIGNET_BASE64URL_ENCODED_LEN (len) + 1);
  signet_base64url_encode_into (data, len, out);
  return out;
}

/* Bytes that n characters decode to (n % 4 != 1). */
static gsize
decoded_len (gsize n)
{
  return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

gboolean
signet_base64url_decode_into (const char  *text,
                              gsize        n,
                              guint8      *out,
                              gsize        out_len,
                              GError     **error)
{
  gsize i, o = 0;
  guint32 acc = 0;
  guint bits = 0;

  g_return_val_if_fail (text != NULL || n == 0, FALSE);
  g_return_val_if_fail (out != NULL || out_len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (i = 0; i < n; i++)
    if (value_of (text[i]) < 0)
      {
        if (text[i] == '=')
          g_set_error_literal (error, SIGNET_BASE64URL_ERROR,
                               SIGNET_BASE64URL_ERROR_INVALID,
                               "base64url: padding is not allowed");
        else
          g_set_error (error, SIGNET_BASE64URL_ERROR,
                       SIGNET_BASE64URL_ERROR_INVALID,
                       "base64url: invalid character at offset %" G_GSIZE_FORMAT,
                       i);
        return FALSE;
      }
  /* 4k + 1 characters carry 6 bits past a whole byte: no byte string
   * encodes to that. */
  if (n % 4 == 1)
    {
      g_set_error_literal (error, SIGNET_BASE64URL_ERROR,
                           SIGNET_BASE64URL_ERROR_INVALID,
                           "base64url: truncated (impossible length)");
      return FALSE;
    }
  if (decoded_len (n) != out_len)
    {
      g_set_error (error, SIGNET_BASE64URL_ERROR, SIGNET_BASE64URL_ERROR_LENGTH,
                   "base64url: decodes to %" G_GSIZE_FORMAT " bytes, not %"
                   G_GSIZE_FORMAT, decoded_len (n), out_len);
      return FALSE;
    }

  for (i = 0; i < n; i++)
    {
      acc = (acc << 6) | (guint32) value_of (text[i]);
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (guint8) (acc >> bits);
        }
    }
  g_assert (o == out_len);
  /* The last character's unused low bits must be zero: otherwise several
   * texts decode to the same bytes (RFC 4648 §3.5). */
  if ((acc & ((1u << bits) - 1)) != 0)
    {
      signet_secret_wipe (out, out_len);
      signet_secret_wipe (&acc, sizeof acc);
      g_set_error_literal (error, SIGNET_BASE64URL_ERROR,
                           SIGNET_BASE64URL_ERROR_INVALID,
                           "base64url: not canonical (stray low bits)");
      return FALSE;
    }
  /* acc holds the last bits of the value, which may be a key */
  signet_secret_wipe (&acc, sizeof acc);
  return TRUE;
}

/**
 * signet_base64url_decode:
 * @text: (array length=len): base64url without padding
 * @len: its length, or -1 if @text is NUL-terminated
 * @max_text_len: the longest @text accepted, in characters
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the bytes, in a wiping #GBytes
 */
GBytes *
signet_base64url_decode (const char  *text,
                         gssize       len,
                         gsize        max_text_len,
                         GError     **error)
{
  gsize n, out_len;
  guint8 *out;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (len >= -1, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Bound the scan for the NUL too: never read a huge string to the end
   * only to refuse it. */
  if (len < 0)
    n = strnlen (text, MIN (max_text_len, (gsize) G_MAXSSIZE - 1) + 1);
  else
    n = (gsize) len;
  if (n > max_text_len)
    {
      g_set_error (error, SIGNET_BASE64URL_ERROR,
                   SIGNET_BASE64URL_ERROR_TOO_LONG,
                   "base64url: more than %" G_GSIZE_FORMAT " characters",
                   max_text_len);
      return NULL;
    }

  out_len = n % 4 == 1 ? 0 : decoded_len (n);
  /* +1: g_malloc (0) is NULL, and an empty GBytes still needs a buffer
   * for signet_secret_bytes_new_take. */
  out = g_malloc (out_len + 1);
  if (!signet_base64url_decode_into (text, n, out, out_len, error))
    {
      signet_secret_free (out, out_len + 1);
      return NULL;
    }
  return signet_secret_bytes_new_take (out, out_len);
}
