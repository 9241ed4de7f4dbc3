/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-keys: encryption at rest bound to its row, and authority
 * key rotation and publication.
 */
#include "config.h"

#include <string.h>

#include "signet-secret.h"
#include "signetd-keys.h"

static SignetdKeys *
make_keys (SignetdStore *store)
{
  guint8 k[SIGNETD_MASTER_KEY_LEN];
  g_autoptr(GBytes) master = NULL;

  memset (k, 0x42, sizeof k);
  master = signet_secret_bytes_new (k, sizeof k);
  return signetd_keys_new_with_master (master, store);
}

static void
test_seal (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store);
  g_autoptr(GBytes) plain = g_bytes_new_static ("top secret", 10);
  g_autoptr(GBytes) sealed = signetd_keys_seal (keys, "totp:user:1", plain, &error);
  g_autoptr(GBytes) opened = NULL;
  g_autoptr(GBytes) flipped = NULL;
  guint8 *copy;
  gsize len;

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (sealed), ==, 12 + 10 + 16);
  opened = signetd_keys_open (keys, "totp:user:1", sealed, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (opened, plain));
  /* Moved to another row: refused. */
  g_assert_null (signetd_keys_open (keys, "totp:user:2", sealed, &error));
  g_assert_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_DECRYPT);
  g_clear_error (&error);
  copy = g_bytes_unref_to_data (g_bytes_ref (sealed), &len);
  copy[len - 1] ^= 1;
  flipped = g_bytes_new_take (copy, len);
  g_assert_null (signetd_keys_open (keys, "totp:user:1", flipped, &error));
  g_assert_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_DECRYPT);
  g_clear_error (&error);
  g_assert_null (signetd_keys_open (keys, "totp:user:1", plain, &error));
  g_assert_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_DECRYPT);
}

static void
test_rotate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store);
  g_autoptr(SignetKey) current = NULL;
  g_autoptr(GPtrArray) published = NULL;
  g_autofree char *kid1 = NULL;
  g_autofree char *kid2 = NULL;
  g_autofree char *kid = NULL;

  g_assert_null (signetd_keys_get_current (keys, NULL, &error));
  g_assert_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_NO_AUTHORITY);
  g_clear_error (&error);

  kid1 = signetd_keys_rotate (keys, 1000, &error);
  g_assert_no_error (error);
  g_assert_true (signetd_keys_note_issued (keys, kid1, 1900, &error));
  kid2 = signetd_keys_rotate (keys, 1100, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kid1, !=, kid2);

  current = signetd_keys_get_current (keys, &kid, &error);
  g_assert_no_error (error);
  g_assert_true (signet_key_has_private (current));
  g_assert_cmpstr (kid, ==, kid2);
  {
    g_autofree char *tp = signet_key_dup_thumbprint (current);

    g_assert_cmpstr (tp, ==, kid2);
  }

  published = signetd_keys_list_published (keys, 1899, &error);
  g_assert_cmpuint (published->len, ==, 2);
  g_assert_cmpstr (((SignetdAuthorityKey *) published->pdata[0])->kid, ==, kid2);
  g_assert_true (((SignetdAuthorityKey *) published->pdata[0])->current);
  g_assert_cmpint (((SignetdAuthorityKey *) published->pdata[1])->not_after, ==, 1900);
  g_clear_pointer (&published, g_ptr_array_unref);
  published = signetd_keys_list_published (keys, 1900, &error);
  g_assert_cmpuint (published->len, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/keys/seal", test_seal);
  g_test_add_func ("/signetd/keys/rotate", test_rotate);
  return g_test_run ();
}
