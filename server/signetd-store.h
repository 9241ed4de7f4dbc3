/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-store.h: the service's SQLite database.
 *
 * One connection per process (the server and each admin command open
 * their own; WAL and a busy timeout make that safe), used from one thread
 * only: the main loop's. Prepared statements are cached per connection. Foreign keys are on, every write that spans
 * several rows runs in a transaction, and SQL reaches SQLite only as
 * prepared statements with bound parameters -- never as text built from
 * input.
 *
 * The schema is versioned: `schema_version` holds one row, and ordered
 * migrations (signetd-store.c) run inside one transaction up to
 * SIGNETD_STORE_SCHEMA_VERSION. A database newer than this binary is
 * refused.
 *
 * SQLite result codes become GErrors in one place,
 * signetd_store_set_error(); messages carry SQLite's text (which names
 * tables and constraints, never bound values).
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

#define SIGNETD_STORE_ERROR (signetd_store_error_quark ())
GQuark signetd_store_error_quark (void);

typedef enum {
  SIGNETD_STORE_ERROR_FAILED,      /* anything else SQLite reports */
  SIGNETD_STORE_ERROR_BUSY,        /* locked by another connection beyond the timeout */
  SIGNETD_STORE_ERROR_CONSTRAINT,  /* a UNIQUE, CHECK or FOREIGN KEY constraint */
  SIGNETD_STORE_ERROR_CORRUPT,     /* not a database, or a damaged one */
  SIGNETD_STORE_ERROR_IO,          /* cannot open, read or write the file */
  SIGNETD_STORE_ERROR_SCHEMA,      /* written by a newer signetd */
  SIGNETD_STORE_ERROR_NOT_FOUND,   /* no such row (signetd_store_*_one) */
} SignetdStoreError;

#define SIGNETD_STORE_FILE "signetd.db"
#define SIGNETD_STORE_SCHEMA_VERSION 3

/* Give a statement of signetd_store_prepare() back: reset, its bindings
 * cleared and kept for the next prepare of the same SQL (statements are
 * parsed once per connection), or finalized. */
void signetd_store_release (sqlite3_stmt *stmt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, signetd_store_release)

typedef struct _SignetdStore SignetdStore;

/* Open (create if create) the database at path and migrate it; ":memory:"
 * gives a private in-memory database. Returns: (transfer full) (nullable) */
SignetdStore *signetd_store_open       (const char    *path,
                                        gboolean       create,
                                        GError       **error);
void          signetd_store_free       (SignetdStore  *self);

/* The schema version the database is at. */
gint64        signetd_store_get_schema_version (SignetdStore *self);

/* Migrate to target (<= SIGNETD_STORE_SCHEMA_VERSION); done by open. */
gboolean      signetd_store_migrate    (SignetdStore  *self,
                                        gint64         target,
                                        GError       **error);

/* Set error from the SQLite result code rc and the connection's message;
 * always returns FALSE. */
gboolean      signetd_store_set_error  (SignetdStore  *self,
                                        int            rc,
                                        const char    *what,
                                        GError       **error);

/* Prepare one statement, or take the cached one for the same SQL; give it
 * back with signetd_store_release() (g_autoptr does). A statement taken
 * and not yet given back is never handed out twice.
 * Returns: (transfer full) (nullable) */
sqlite3_stmt *signetd_store_prepare    (SignetdStore  *self,
                                        const char    *sql,
                                        GError       **error);

/* Bind parameters 1..n described by fmt, one char each:
 *   't' const char * (NULL binds NULL)    'i' gint64
 *   'b' const void *, gsize (a blob)      'B' GBytes * (NULL binds NULL)
 */
gboolean      signetd_store_bind       (SignetdStore  *self,
                                        sqlite3_stmt  *stmt,
                                        GError       **error,
                                        const char    *fmt,
                                        ...);

/* Step: 1 for a row, 0 when done, -1 with error set. */
int           signetd_store_step       (SignetdStore  *self,
                                        sqlite3_stmt  *stmt,
                                        GError       **error);

/* Prepare, bind and run a statement that returns no rows. If out_changes
 * is not NULL it receives the number of rows changed. */
gboolean      signetd_store_run        (SignetdStore  *self,
                                        gint          *out_changes,
                                        GError       **error,
                                        const char    *sql,
                                        const char    *fmt,
                                        ...);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback never fails loudly: it
 * runs on error paths). Inside a group (below) they are SAVEPOINT /
 * RELEASE / ROLLBACK TO + RELEASE: one operation's writes still stand or
 * fall together, and become durable with the group. */
gboolean      signetd_store_begin      (SignetdStore  *self,
                                        GError       **error);
gboolean      signetd_store_commit     (SignetdStore  *self,
                                        GError       **error);
void          signetd_store_rollback   (SignetdStore  *self);

/* Group commit. signetd serve opens one group transaction, runs every
 * request that arrives meanwhile inside it (each operation as a savepoint,
 * and single statements in it too), and commits the group -- one fsync
 * for all -- before it answers any of those requests. An answer thus never
 * gets ahead of the durability of what it reports; the fsync is shared
 * instead of paid per request (docs/operations.md, Performance).
 * group_commit fails (and rolls back) if SQLite already rolled the group
 * back after an error; then none of its writes happened. */
gboolean      signetd_store_group_begin    (SignetdStore  *self,
                                            GError       **error);
gboolean      signetd_store_group_commit   (SignetdStore  *self,
                                            GError       **error);
void          signetd_store_group_rollback (SignetdStore  *self);
gboolean      signetd_store_in_group       (SignetdStore  *self);

/* A column as a GBytes (NULL for SQL NULL). Returns: (transfer full) */
GBytes       *signetd_store_column_bytes (sqlite3_stmt *stmt,
                                          int           col);

/* A column as a string (NULL for SQL NULL). Returns: (transfer full) */
char         *signetd_store_column_text  (sqlite3_stmt *stmt,
                                          int           col);

sqlite3      *signetd_store_get_db     (SignetdStore  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdStore, signetd_store_free)

G_END_DECLS
