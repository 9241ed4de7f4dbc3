/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cbor-encode-standin.c: for the Cortex-M4 size report only. proto's
 * writer calls nine of libcbor's allocation-free cbor_encode_*
 * functions; when libcbor's source cannot be fetched (size-report.sh
 * tries Debian's orig tarball first), these stand in for them: the same
 * shortest-form heads, in about as much code, so the total stays honest.
 * Never linked into anything that runs.
 */
#include <cbor/encoding.h>

/* A head of major type `major` (shifted) with argument v. */
static size_t
head (unsigned char major, uint64_t v, unsigned char *buf, size_t cap)
{
  size_t n, i;

  if (v < 24)
    n = 0;
  else if (v <= 0xFF)
    n = 1;
  else if (v <= 0xFFFF)
    n = 2;
  else if (v <= 0xFFFFFFFFu)
    n = 4;
  else
    n = 8;
  if (cap < n + 1)
    return 0;
  buf[0] = (unsigned char) (major | (n == 0 ? v : n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
  for (i = 0; i < n; i++)
    buf[n - i] = (unsigned char) (v >> (8 * i));
  return n + 1;
}

size_t
cbor_encode_uint (uint64_t v, unsigned char *b, size_t c)
{
  return head (0x00, v, b, c);
}

size_t
cbor_encode_negint (uint64_t v, unsigned char *b, size_t c)
{
  return head (0x20, v, b, c);
}

size_t
cbor_encode_bytestring_start (size_t v, unsigned char *b, size_t c)
{
  return head (0x40, v, b, c);
}

size_t
cbor_encode_string_start (size_t v, unsigned char *b, size_t c)
{
  return head (0x60, v, b, c);
}

size_t
cbor_encode_array_start (size_t v, unsigned char *b, size_t c)
{
  return head (0x80, v, b, c);
}

size_t
cbor_encode_map_start (size_t v, unsigned char *b, size_t c)
{
  return head (0xA0, v, b, c);
}

size_t
cbor_encode_tag (uint64_t v, unsigned char *b, size_t c)
{
  return head (0xC0, v, b, c);
}

size_t
cbor_encode_bool (bool v, unsigned char *b, size_t c)
{
  return head (0xE0, v ? 21 : 20, b, c);
}

size_t
cbor_encode_null (unsigned char *b, size_t c)
{
  return head (0xE0, 22, b, c);
}
