/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-vault: the vault's round trips, encryption at rest (the
 * value's bytes are nowhere in the database files), refusal under another
 * master key or of a changed or moved ciphertext, the name and value
 * rules, and that no log line or error message carries a value.
 */
#define _GNU_SOURCE   /* memmem */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "signet-secret.h"
#include "signetd-vault.h"

/* Every log message of the process, whatever its level (debug included:
 * a custom writer sees them all), so tests can check what never appears
 * in one. */
static GString *logged;

static GLogWriterOutput
capture_writer (GLogLevelFlags   level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      {
        if (fields[i].length < 0)
          g_string_append (logged, fields[i].value);
        else
          g_string_append_len (logged, fields[i].value, fields[i].length);
        g_string_append_c (logged, '\n');
      }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static SignetdKeys *
make_keys (SignetdStore *store,
           guint8        fill)
{
  guint8 k[SIGNETD_MASTER_KEY_LEN];
  g_autoptr(GBytes) master = NULL;

  memset (k, fill, sizeof k);
  master = signet_secret_bytes_new (k, sizeof k);
  return signetd_keys_new_with_master (master, store);
}

typedef struct {
  char *dir;
  char *path;
  SignetdStore *store;
  SignetdKeys *keys;
  SignetdVault *vault;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("signetd-vault-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, SIGNETD_STORE_FILE, NULL);
  f->store = signetd_store_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  f->keys = make_keys (f->store, 0x42);
  f->vault = signetd_vault_new (f->store, f->keys);
}

static void
fixture_close_store (Fixture *f)
{
  g_clear_pointer (&f->vault, signetd_vault_free);
  g_clear_pointer (&f->keys, signetd_keys_free);
  g_clear_pointer (&f->store, signetd_store_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  fixture_close_store (f);
  d = g_dir_open (f->dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);

      g_unlink (p);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* Whether needle occurs in any file of dir (the database, its WAL and
 * shared memory files). */
static gboolean
dir_contains (const char   *dir,
              const void   *needle,
              gsize         needle_len)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint files = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (p, &contents, &len, NULL));
      files++;
      if (memmem (contents, len, needle, needle_len) != NULL)
        return TRUE;
    }
  g_assert_cmpuint (files, >, 0);
  return FALSE;
}

static void
assert_value (SignetdVault *vault,
              const char   *name,
              const char   *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = signetd_vault_dup_value (vault, name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value),
                   expected, strlen (expected));
}

static void
test_roundtrip (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) psk = g_bytes_new_static ("correct horse", 13);
  g_autoptr(GBytes) psk2 = g_bytes_new_static ("battery staple", 14);
  g_autoptr(GBytes) token = g_bytes_new_static ("\x00\x01\xff binary", 10);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GBytes) got = NULL;
  gboolean replaced = TRUE;
  SignetdVaultEntry *e;

  g_assert_true (signetd_vault_set (f->vault, "site-a/wifi-psk", psk, 1000, &replaced, &error));
  g_assert_no_error (error);
  g_assert_false (replaced);
  g_assert_true (signetd_vault_set (f->vault, "api.token", token, 1001, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (signetd_vault_exists (f->vault, "site-a/wifi-psk", &error));
  g_assert_false (signetd_vault_exists (f->vault, "site-b/wifi-psk", &error));
  g_assert_no_error (error);

  assert_value (f->vault, "site-a/wifi-psk", "correct horse");
  /* Binary values keep every byte, NUL included. */
  got = signetd_vault_dup_value (f->vault, "api.token", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, token));

  /* Replacing keeps the creation time and says so. */
  g_assert_true (signetd_vault_set (f->vault, "site-a/wifi-psk", psk2, 2000, &replaced, &error));
  g_assert_no_error (error);
  g_assert_true (replaced);
  assert_value (f->vault, "site-a/wifi-psk", "battery staple");

  /* Listed by name, with times and nothing else. */
  list = signetd_vault_list (f->vault, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  e = g_ptr_array_index (list, 0);
  g_assert_cmpstr (e->name, ==, "api.token");
  g_assert_cmpint (e->created, ==, 1001);
  g_assert_cmpint (e->updated, ==, 1001);
  e = g_ptr_array_index (list, 1);
  g_assert_cmpstr (e->name, ==, "site-a/wifi-psk");
  g_assert_cmpint (e->created, ==, 1000);
  g_assert_cmpint (e->updated, ==, 2000);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Delete, then it is gone everywhere. */
  g_assert_true (signetd_vault_delete (f->vault, "site-a/wifi-psk", &error));
  g_assert_no_error (error);
  g_assert_false (signetd_vault_exists (f->vault, "site-a/wifi-psk", &error));
  g_assert_no_error (error);
  g_assert_null (signetd_vault_dup_value (f->vault, "site-a/wifi-psk", &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (signetd_vault_delete (f->vault, "site-a/wifi-psk", &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = signetd_vault_list (f->vault, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((SignetdVaultEntry *) g_ptr_array_index (list, 0))->name, ==, "api.token");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A value set again after deletion is a new entry. */
  g_assert_true (signetd_vault_set (f->vault, "site-a/wifi-psk", psk, 3000, &replaced, &error));
  g_assert_false (replaced);
  list = signetd_vault_list (f->vault, &error);
  e = g_ptr_array_index (list, 1);
  g_assert_cmpint (e->created, ==, 3000);

  /* It survives closing and reopening the database. */
  fixture_close_store (f);
  f->store = signetd_store_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  f->keys = make_keys (f->store, 0x42);
  f->vault = signetd_vault_new (f->store, f->keys);
  assert_value (f->vault, "site-a/wifi-psk", "correct horse");
}

static void
test_encrypted_at_rest (Fixture       *f,
                        gconstpointer  data)
{
  static const char secret[] = "PLAINTEXT-WIFI-PSK-0123456789";
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = g_bytes_new_static (secret, strlen (secret));
  static const char name[] = "site-a/needle-name";

  g_assert_true (signetd_vault_set (f->vault, name, value, 1000, NULL, &error));
  g_assert_no_error (error);
  /* The search does find what is stored in the clear (the name), so its
   * not finding the value means something. */
  g_assert_true (dir_contains (f->dir, name, strlen (name)));
  g_assert_false (dir_contains (f->dir, secret, strlen (secret)));
  /* Nor after the WAL is checkpointed into the database at close. */
  fixture_close_store (f);
  g_assert_true (dir_contains (f->dir, name, strlen (name)));
  g_assert_false (dir_contains (f->dir, secret, strlen (secret)));

  /* The column holds nonce || ciphertext || tag: 12 + n + 16 bytes. */
  f->store = signetd_store_open (f->path, FALSE, &error);
  g_assert_no_error (error);
  {
    g_autoptr(sqlite3_stmt) stmt =
      signetd_store_prepare (f->store, "SELECT value FROM vault_secrets WHERE name = ?", &error);
    g_autoptr(GBytes) stored = NULL;

    g_assert_true (signetd_store_bind (f->store, stmt, &error, "t", name));
    g_assert_cmpint (signetd_store_step (f->store, stmt, &error), ==, 1);
    stored = signetd_store_column_bytes (stmt, 0);
    g_assert_cmpuint (g_bytes_get_size (stored), ==, 12 + strlen (secret) + 16);
  }
}

/* Overwrite the stored ciphertext of name with bytes. */
static void
put_raw (SignetdStore *store,
         const char   *name,
         GBytes       *bytes)
{
  g_autoptr(GError) error = NULL;
  gint changes = 0;

  g_assert_true (signetd_store_run (store, &changes, &error,
                                    "UPDATE vault_secrets SET value = ? WHERE name = ?", "Bt",
                                    bytes, name));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, 1);
}

static GBytes *
get_raw (SignetdStore *store,
         const char   *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (store, "SELECT value FROM vault_secrets WHERE name = ?", &error);

  g_assert_true (signetd_store_bind (store, stmt, &error, "t", name));
  g_assert_cmpint (signetd_store_step (store, stmt, &error), ==, 1);
  return signetd_store_column_bytes (stmt, 0);
}

static void
assert_does_not_open (SignetdVault *vault,
                      const char   *name)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (signetd_vault_dup_value (vault, name, &error));
  g_assert_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_DECRYPT);
  g_assert_null (strstr (error->message, "hunter2"));
}

static void
test_wrong_key_and_tampering (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) value = g_bytes_new_static ("hunter2-hunter2", 15);
  g_autoptr(GBytes) original = NULL;
  g_autoptr(SignetdKeys) other_keys = make_keys (f->store, 0x43);
  g_autoptr(SignetdVault) other = signetd_vault_new (f->store, other_keys);
  gsize len;

  g_assert_true (signetd_vault_set (f->vault, "a/secret", value, 1000, NULL, &error));
  g_assert_true (signetd_vault_set (f->vault, "b/secret", value, 1000, NULL, &error));
  g_assert_no_error (error);

  /* Another master key (one bit apart would do: 0x42 vs 0x43). */
  assert_does_not_open (other, "a/secret");
  /* The vault still knows the entry exists: only the value is sealed. */
  g_assert_true (signetd_vault_exists (other, "a/secret", &error));

  /* Every single bit flip of the stored bytes -- nonce, ciphertext or
   * tag -- is refused. */
  original = get_raw (f->store, "a/secret");
  len = g_bytes_get_size (original);
  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit += 3)
      {
        g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (original, NULL), len);
        g_autoptr(GBytes) flipped = NULL;

        copy[i] ^= (guint8) (1u << bit);
        flipped = g_bytes_new (copy, len);
        put_raw (f->store, "a/secret", flipped);
        assert_does_not_open (f->vault, "a/secret");
      }
  /* Cut short, or cut to nothing. */
  {
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (original, 0, len - 1);
    g_autoptr(GBytes) tiny = g_bytes_new_from_bytes (original, 0, 27);

    put_raw (f->store, "a/secret", cut);
    assert_does_not_open (f->vault, "a/secret");
    put_raw (f->store, "a/secret", tiny);
    assert_does_not_open (f->vault, "a/secret");
  }
  /* The genuine bytes open again (the loop above did test tampering,
   * not a broken row). */
  put_raw (f->store, "a/secret", original);
  assert_value (f->vault, "a/secret", "hunter2-hunter2");

  /* A ciphertext moved to another name does not open: the name is in
   * the additional data. */
  put_raw (f->store, "b/secret", original);
  assert_does_not_open (f->vault, "b/secret");
  g_assert_true (signetd_store_run (f->store, NULL, &error,
                                    "DELETE FROM vault_secrets WHERE name = 'b/secret'", NULL));
  g_assert_true (signetd_store_run (f->store, NULL, &error,
                                    "UPDATE vault_secrets SET name = 'b/secret' "
                                    "WHERE name = 'a/secret'", NULL));
  g_assert_no_error (error);
  assert_does_not_open (f->vault, "b/secret");
}

static void
test_names (void)
{
  const char *good[] = {
    "a", "wifi-psk", "site-a/wifi-psk", "a/b/c/d", "x.y_z-0", "..a", "a..", "a/.b", "...",
    "0", NULL
  };
  const char *bad[] = {
    "", "/", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a/..", "./a",
    "A", "Site-A/psk", "a b", "a\\b", "a:b", "a\nb", "\xc3\xa9t\xc3\xa9", "a\tb", "a*",
    "x'; DROP TABLE vault_secrets; --", NULL
  };
  g_autofree char *longest = g_strnfill (SIGNETD_VAULT_NAME_MAX, 'a');
  g_autofree char *too_long = g_strnfill (SIGNETD_VAULT_NAME_MAX + 1, 'a');
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store, 1);
  g_autoptr(SignetdVault) vault = signetd_vault_new (store, keys);
  g_autoptr(GBytes) value = g_bytes_new_static ("v", 1);
  g_autoptr(GPtrArray) list = NULL;

  for (gsize i = 0; good[i] != NULL; i++)
    {
      if (!signetd_vault_validate_name (good[i], &error))
        g_error ("\"%s\" refused: %s", good[i], error->message);
      g_assert_true (signetd_vault_set (vault, good[i], value, 1, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (signetd_vault_validate_name (longest, &error));
  g_assert_true (signetd_vault_set (vault, longest, value, 1, NULL, &error));
  g_assert_no_error (error);

  for (gsize i = 0; bad[i] != NULL; i++)
    {
      if (signetd_vault_validate_name (bad[i], &error))
        g_error ("\"%s\" accepted", bad[i]);
      g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
      g_clear_error (&error);
      g_assert_false (signetd_vault_set (vault, bad[i], value, 1, NULL, &error));
      g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
      g_clear_error (&error);
      g_assert_false (signetd_vault_delete (vault, bad[i], &error));
      g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
      g_clear_error (&error);
    }
  g_assert_false (signetd_vault_validate_name (too_long, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (signetd_vault_set (vault, too_long, value, 1, NULL, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_assert_false (signetd_vault_validate_name (NULL, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
  g_clear_error (&error);
  /* An invalid name is not quoted back (it may hold anything). */
  g_assert_false (signetd_vault_validate_name ("a/../evil-name", &error));
  g_assert_null (strstr (error->message, "evil-name"));
  g_clear_error (&error);

  /* Exactly the good names were stored. */
  list = signetd_vault_list (vault, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, g_strv_length ((GStrv) good) + 1);
}

static void
test_values (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store, 1);
  g_autoptr(SignetdVault) vault = signetd_vault_new (store, keys);
  g_autofree guint8 *big = g_malloc (SIGNETD_VAULT_VALUE_MAX + 1);
  g_autoptr(GBytes) largest = NULL;
  g_autoptr(GBytes) too_large = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) old = g_bytes_new_static ("old", 3);

  for (gsize i = 0; i <= SIGNETD_VAULT_VALUE_MAX; i++)
    big[i] = (guint8) (i * 7);
  largest = g_bytes_new (big, SIGNETD_VAULT_VALUE_MAX);
  too_large = g_bytes_new (big, SIGNETD_VAULT_VALUE_MAX + 1);

  g_assert_true (signetd_vault_set (vault, "big", largest, 1, NULL, &error));
  g_assert_no_error (error);
  got = signetd_vault_dup_value (vault, "big", &error);
  g_assert_true (g_bytes_equal (got, largest));

  g_assert_true (signetd_vault_set (vault, "x", old, 1, NULL, &error));
  g_assert_false (signetd_vault_set (vault, "x", too_large, 2, NULL, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (signetd_vault_set (vault, "x", empty, 2, NULL, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (signetd_vault_set (vault, "x", NULL, 2, NULL, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  /* A refused value leaves the old one as it was. */
  assert_value (vault, "x", "old");
  /* A bad name is reported before a bad value. */
  g_assert_false (signetd_vault_set (vault, "X", empty, 2, NULL, &error));
  g_assert_error (error, SIGNETD_VAULT_ERROR, SIGNETD_VAULT_ERROR_INVALID_NAME);
}

/* Nothing the vault does, succeeding or failing, writes the value to a
 * log or an error message. */
static void
test_no_value_in_logs (void)
{
  static const char secret[] = "s3cr3t-VALUE-never-logged";
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store, 1);
  g_autoptr(SignetdKeys) wrong_keys = make_keys (store, 2);
  g_autoptr(SignetdVault) vault = signetd_vault_new (store, keys);
  g_autoptr(SignetdVault) wrong = signetd_vault_new (store, wrong_keys);
  g_autoptr(GBytes) value = g_bytes_new_static (secret, strlen (secret));
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *padded = g_strnfill (SIGNETD_VAULT_VALUE_MAX, 'z');
  g_autoptr(GBytes) too_large = NULL;

  /* The value inside something too large, to see whether the refusal
   * quotes it. */
  memcpy (padded, secret, strlen (secret));
  too_large = g_bytes_new (padded, SIGNETD_VAULT_VALUE_MAX + 1);   /* with the NUL */

  /* The capture works (else the checks below could not fail). */
  g_string_truncate (logged, 0);
  g_debug ("capture probe");
  g_assert_nonnull (strstr (logged->str, "capture probe"));

  g_assert_true (signetd_vault_set (vault, "site/psk", value, 1, NULL, &error));
  got = signetd_vault_dup_value (vault, "site/psk", &error);
  g_assert_no_error (error);
  list = signetd_vault_list (vault, &error);

  g_assert_null (signetd_vault_dup_value (wrong, "site/psk", &error));
  g_ptr_array_add (messages, g_strdup (error->message));
  g_clear_error (&error);
  g_assert_false (signetd_vault_set (vault, "site/psk", too_large, 2, NULL, &error));
  g_ptr_array_add (messages, g_strdup (error->message));
  g_clear_error (&error);
  g_assert_false (signetd_vault_set (vault, secret, value, 2, NULL, &error));
  g_ptr_array_add (messages, g_strdup (error->message));
  g_clear_error (&error);
  g_assert_false (signetd_vault_set (vault, "SITE/psk", value, 2, NULL, &error));
  g_ptr_array_add (messages, g_strdup (error->message));
  g_clear_error (&error);
  g_assert_true (signetd_vault_delete (vault, "site/psk", &error));
  g_assert_null (signetd_vault_dup_value (vault, "site/psk", &error));
  g_ptr_array_add (messages, g_strdup (error->message));
  g_clear_error (&error);

  g_assert_null (strstr (logged->str, secret));
  g_assert_null (strstr (logged->str, "s3cr3t"));
  for (guint i = 0; i < messages->len; i++)
    {
      g_assert_null (strstr (g_ptr_array_index (messages, i), "s3cr3t"));
      g_assert_cmpstr (g_ptr_array_index (messages, i), !=, "");
    }
  /* The listing carries names and times only. */
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((SignetdVaultEntry *) g_ptr_array_index (list, 0))->name, ==, "site/psk");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  logged = g_string_new (NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);

  g_test_add ("/signetd/vault/roundtrip", Fixture, NULL, fixture_set_up, test_roundtrip,
              fixture_tear_down);
  g_test_add ("/signetd/vault/encrypted-at-rest", Fixture, NULL, fixture_set_up,
              test_encrypted_at_rest, fixture_tear_down);
  g_test_add ("/signetd/vault/wrong-key-and-tampering", Fixture, NULL, fixture_set_up,
              test_wrong_key_and_tampering, fixture_tear_down);
  g_test_add_func ("/signetd/vault/names", test_names);
  g_test_add_func ("/signetd/vault/values", test_values);
  g_test_add_func ("/signetd/vault/no-value-in-logs", test_no_value_in_logs);
  return g_test_run ();
}
