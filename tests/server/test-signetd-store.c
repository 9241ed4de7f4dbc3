/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-store: migrations on an in-memory database, the error
 * mapping, bound parameters, and refusing a newer schema.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "signetd-store.h"

static void
test_migrate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (signetd_store_get_schema_version (store), ==, SIGNETD_STORE_SCHEMA_VERSION);
  /* Migrating again is a no-op. */
  g_assert_true (signetd_store_migrate (store, SIGNETD_STORE_SCHEMA_VERSION, &error));
  stmt = signetd_store_prepare (store, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                       "AND name IN ('users', 'sessions', 'tokens', "
                                       "'authority_keys', 'revocation_list')", &error);
  g_assert_cmpint (signetd_store_step (store, stmt, &error), ==, 1);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 5);
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  const char *evil = "x'); DROP TABLE users; --";
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_true (signetd_store_run (store, NULL, &error,
                                    "INSERT INTO users (name, role, password_hash, created) "
                                    "VALUES (?, 'admin', 'h', 0)", "t", evil));
  g_assert_false (signetd_store_run (store, NULL, &error,
                                     "INSERT INTO users (name, role, password_hash, created) "
                                     "VALUES (?, 'admin', 'h', 0)", "t", evil));
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  /* CHECK constraint on the role. */
  g_assert_false (signetd_store_run (store, NULL, &error,
                                     "INSERT INTO users (name, role, password_hash, created) "
                                     "VALUES ('a', 'root', 'h', 0)", NULL));
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  /* Foreign keys are on. */
  g_assert_false (signetd_store_run (store, NULL, &error,
                                     "INSERT INTO sessions (id, user_id, created, max_until, "
                                     "auth_time) VALUES ('s', 999, 0, 0, 0)", NULL));
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  g_assert_null (signetd_store_prepare (store, "SELEKT 1", &error));
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_FAILED);
  g_clear_error (&error);

  stmt = signetd_store_prepare (store, "SELECT name FROM users", &error);
  g_assert_cmpint (signetd_store_step (store, stmt, &error), ==, 1);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, evil);
}

static void
test_newer_schema (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("signetd-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "db", NULL);
  SignetdStore *store = signetd_store_open (path, TRUE, &error);

  g_assert_no_error (error);
  g_assert_true (signetd_store_run (store, NULL, &error,
                                    "UPDATE schema_version SET version = 99", NULL));
  signetd_store_free (store);
  store = signetd_store_open (path, FALSE, &error);
  g_assert_null (store);
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_SCHEMA);
  g_clear_error (&error);
  /* Not a database at all. */
  g_assert_true (g_file_set_contents (path, "not a database, just text, long enough", -1,
                                      NULL));
  g_assert_null (signetd_store_open (path, FALSE, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_null (signetd_store_open ("/nonexistent/dir/db", FALSE, &error));
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_IO);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
  }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/store/migrate", test_migrate);
  g_test_add_func ("/signetd/store/errors", test_errors);
  g_test_add_func ("/signetd/store/newer-schema", test_newer_schema);
  return g_test_run ();
}
