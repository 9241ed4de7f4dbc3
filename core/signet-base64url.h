/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-base64url.h: base64url without padding (RFC 4648 §5), as the
 * service API carries every binary value (docs/api.md, "Conventions").
 *
 * Decoding is strict, so that one value has exactly one text form and a
 * peer cannot smuggle variants past a cache or a log: only the 64
 * characters of the URL-safe alphabet; no padding, no whitespace, no line
 * breaks, no '+' or '/'; no length of the form 4k + 1 (it cannot come from
 * any byte string); and the unused low bits of the last character must be
 * zero ("canonical", RFC 4648 §3.5). Every decode takes an explicit bound
 * on the input length, checked before any work is done.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIGNET_BASE64URL_ERROR (signet_base64url_error_quark ())
GQuark signet_base64url_error_quark (void);

typedef enum {
  SIGNET_BASE64URL_ERROR_INVALID,  /* not strict base64url (see above) */
  SIGNET_BASE64URL_ERROR_TOO_LONG, /* the text is longer than the caller's bound */
  SIGNET_BASE64URL_ERROR_LENGTH,   /* decode_into: not the expected number of bytes */
} SignetBase64urlError;

/* Characters needed to encode n bytes: ceil (4n / 3), without padding. */
#define SIGNET_BASE64URL_ENCODED_LEN(n) (((n) / 3) * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))

/* Encode data[0..len) (data may be NULL when len is 0).
 * Returns: (transfer full): a NUL-terminated string, "" for no data */
char   *signet_base64url_encode (const guint8  *data,
                                 gsize          len);

/* Decode text[0..len), or the NUL-terminated text when len is -1. A text
 * longer than max_text_len characters is refused with
 * SIGNET_BASE64URL_ERROR_TOO_LONG (with len -1, text is never read past
 * max_text_len + 1 bytes). The empty text decodes to an empty GBytes.
 * Error messages never quote the input.
 * Returns: (transfer full) (nullable): a GBytes that wipes itself when
 * freed (decoded values are often keys or tokens) */
GBytes *signet_base64url_decode (const char    *text,
                                 gssize         len,
                                 gsize          max_text_len,
                                 GError       **error);

/* The fixed-buffer forms, for values that must not pass through a growing
 * heap buffer (private keys in a JWK). encode_into writes
 * SIGNET_BASE64URL_ENCODED_LEN (len) characters and a NUL to out and
 * returns the number of characters. decode_into decodes text[0..n), which
 * must decode to exactly out_len bytes (SIGNET_BASE64URL_ERROR_LENGTH
 * otherwise, the message giving both lengths); on any error out is wiped. */
gsize     signet_base64url_encode_into (const guint8  *data,
                                        gsize          len,
                                        char          *out);
gboolean  signet_base64url_decode_into (const char    *text,
                                        gsize          n,
                                        guint8        *out,
                                        gsize          out_len,
                                        GError       **error);

G_END_DECLS
