/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-store: migrations on an in-memory database, the error
 * mapping, bound parameters, refusing a newer schema, the statement cache
 * and group commit.
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

static gint64
count_users (SignetdStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(sqlite3_stmt) stmt = signetd_store_prepare (store, "SELECT count(*) FROM users",
                                                        &error);

  g_assert_no_error (error);
  g_assert_cmpint (signetd_store_step (store, stmt, &error), ==, 1);
  return sqlite3_column_int64 (stmt, 0);
}

static gboolean
add_user (SignetdStore  *store,
          const char    *name,
          GError       **error)
{
  return signetd_store_run (store, NULL, error,
                            "INSERT INTO users (name, role, password_hash, created) "
                            "VALUES (?, 'technician', 'h', 0)", "t", name);
}

/* Operations in a group stand or fall alone; the group is durable only
 * at its commit, and a rolled-back group leaves nothing. */
static void
test_group (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autoptr(SignetdStore) store = NULL;
  g_autoptr(SignetdStore) other = NULL;

  g_assert_no_error (error);
  store = signetd_store_open (path, TRUE, &error);
  g_assert_no_error (error);
  other = signetd_store_open (path, FALSE, &error);
  g_assert_no_error (error);

  g_assert_true (signetd_store_group_begin (store, &error));
  g_assert_true (signetd_store_in_group (store));
  /* op 1: kept */
  g_assert_true (signetd_store_begin (store, &error));
  g_assert_true (add_user (store, "alice", &error));
  g_assert_true (signetd_store_commit (store, &error));
  /* op 2: fails half-way, rolled back alone */
  g_assert_true (signetd_store_begin (store, &error));
  g_assert_true (add_user (store, "bob", &error));
  g_assert_false (add_user (store, "alice", &error));   /* UNIQUE */
  g_assert_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_CONSTRAINT);
  g_clear_error (&error);
  signetd_store_rollback (store);
  /* a single statement outside an operation */
  g_assert_true (add_user (store, "carol", &error));
  g_assert_cmpint (count_users (store), ==, 2);
  /* nothing is visible to another connection before the commit */
  g_assert_cmpint (count_users (other), ==, 0);
  g_assert_true (signetd_store_group_commit (store, &error));
  g_assert_no_error (error);
  g_assert_false (signetd_store_in_group (store));
  g_assert_cmpint (count_users (other), ==, 2);

  /* A group rolled back leaves nothing. */
  g_assert_true (signetd_store_group_begin (store, &error));
  g_assert_true (signetd_store_begin (store, &error));
  g_assert_true (add_user (store, "dave", &error));
  g_assert_true (signetd_store_commit (store, &error));
  signetd_store_group_rollback (store);
  g_assert_cmpint (count_users (store), ==, 2);
  g_assert_cmpint (count_users (other), ==, 2);

  /* Outside a group, begin/commit are a transaction of their own again. */
  g_assert_true (signetd_store_begin (store, &error));
  g_assert_true (add_user (store, "erin", &error));
  g_assert_true (signetd_store_commit (store, &error));
  g_assert_cmpint (count_users (other), ==, 3);

  g_clear_pointer (&store, signetd_store_free);
  g_clear_pointer (&other, signetd_store_free);
  (void) g_remove (wal);
  (void) g_remove (shm);
  g_assert_cmpint (g_remove (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* A cached statement comes back reset and unbound; the same SQL taken
 * twice at once gives two statements. */
static void
test_statement_cache (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  const char *sql = "SELECT name FROM users WHERE name >= ? ORDER BY name";
  sqlite3_stmt *first, *again;
  g_autoptr(sqlite3_stmt) outer = NULL;
  int n = 0;

  g_assert_true (add_user (store, "alice", &error));
  g_assert_true (add_user (store, "bob", &error));

  first = signetd_store_prepare (store, sql, &error);
  g_assert_nonnull (first);
  g_assert_true (signetd_store_bind (store, first, &error, "t", "b"));
  g_assert_cmpint (signetd_store_step (store, first, &error), ==, 1);
  signetd_store_release (first);
  again = signetd_store_prepare (store, sql, &error);
  g_assert_true (again == first);                   /* cached, */
  g_assert_false (sqlite3_stmt_busy (again));       /* reset */
  /* and unbound: NULL >= anything matches nothing */
  g_assert_cmpint (signetd_store_step (store, again, &error), ==, 0);
  signetd_store_release (again);

  /* Iterating one while the same SQL runs again inside the loop. */
  outer = signetd_store_prepare (store, sql, &error);
  g_assert_true (signetd_store_bind (store, outer, &error, "t", "a"));
  while (signetd_store_step (store, outer, &error) == 1)
    {
      g_autoptr(sqlite3_stmt) inner = signetd_store_prepare (store, sql, &error);

      g_assert_true (inner != outer);
      g_assert_true (signetd_store_bind (store, inner, &error, "t", "a"));
      g_assert_cmpint (signetd_store_step (store, inner, &error), ==, 1);
      g_assert_cmpstr ((const char *) sqlite3_column_text (inner, 0), ==, "alice");
      g_assert_cmpstr ((const char *) sqlite3_column_text (outer, 0), ==,
                       n == 0 ? "alice" : "bob");
      n++;
    }
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/store/migrate", test_migrate);
  g_test_add_func ("/signetd/store/errors", test_errors);
  g_test_add_func ("/signetd/store/newer-schema", test_newer_schema);
  g_test_add_func ("/signetd/store/group", test_group);
  g_test_add_func ("/signetd/store/statement-cache", test_statement_cache);
  return g_test_run ();
}
