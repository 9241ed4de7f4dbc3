/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-test-util.h"

GBytes *
signet_test_hex (const char *hex)
{
  GByteArray *a = g_byte_array_new ();

  g_assert_nonnull (hex);
  for (; hex[0] != '\0'; hex++)
    {
      int hi, lo;
      guint8 b;

      if (hex[0] == ' ')
        continue;
      hi = g_ascii_xdigit_value (hex[0]);
      lo = g_ascii_xdigit_value (hex[1]);
      g_assert_true (hi >= 0 && lo >= 0);
      b = (guint8) (hi << 4 | lo);
      g_byte_array_append (a, &b, 1);
      hex++;
    }
  return g_byte_array_free_to_bytes (a);
}

void
signet_test_hex_fill (const char *hex,
                      guint8     *out,
                      gsize       len)
{
  g_autoptr(GBytes) b = signet_test_hex (hex);

  g_assert_cmpuint (g_bytes_get_size (b), ==, len);
  memcpy (out, g_bytes_get_data (b, NULL), len);
}
