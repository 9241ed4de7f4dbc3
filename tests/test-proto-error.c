/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "sp-crypto-port.h"
#include "sp-error.h"

/* Every code a caller can get has its own sentence; a code without one
 * would show a technician "unknown error". */
static void
test_strerror_specific (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  int code;
  guint n = 0;

  for (code = 1; code < 256; code++)
    {
      const char *msg = sp_strerror ((sp_err) code);

      g_assert_nonnull (msg);
      if (g_str_equal (msg, "unknown error"))
        continue;
      g_assert_false (g_hash_table_contains (seen, msg));
      g_hash_table_add (seen, (gpointer) msg);
      n++;
    }
  g_assert_cmpstr (sp_strerror (SP_OK), ==, "success");
  g_assert_cmpstr (sp_strerror ((sp_err) 9999), ==, "unknown error");
  g_assert_cmpuint (n, >=, 30);
}

static void
test_ct_memcmp (void)
{
  guint8 a[64], b[64];
  gsize i;
  guint bit;

  for (i = 0; i < sizeof a; i++)
    a[i] = b[i] = (guint8) (i * 7);
  g_assert_cmpint (sp_ct_memcmp (a, b, sizeof a), ==, 0);
  g_assert_cmpint (sp_ct_memcmp (a, b, 0), ==, 0);
  for (i = 0; i < sizeof a; i++)
    for (bit = 0; bit < 8; bit++)
      {
        b[i] ^= (guint8) (1u << bit);
        g_assert_cmpint (sp_ct_memcmp (a, b, sizeof a), !=, 0);
        b[i] ^= (guint8) (1u << bit);
      }
}

static void
test_wipe (void)
{
  guint8 buf[33];
  gsize i;

  memset (buf, 0xa5, sizeof buf);
  sp_wipe (buf, sizeof buf);
  for (i = 0; i < sizeof buf; i++)
    g_assert_cmpuint (buf[i], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signet/proto/strerror/specific", test_strerror_specific);
  g_test_add_func ("/signet/proto/ct-memcmp", test_ct_memcmp);
  g_test_add_func ("/signet/proto/wipe", test_wipe);
  return g_test_run ();
}
