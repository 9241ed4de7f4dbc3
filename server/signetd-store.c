/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "signetd-store.h"

struct _SignetdStore {
  sqlite3 *db;
  GHashTable *stmts;        /* SQL text (owned) -> idle sqlite3_stmt * */
  gboolean in_group;        /* a group transaction is open */
  guint savepoints;         /* signetd_store_begin() depth inside it */
};

/* Each connection's store, so that signetd_store_release() can find the
 * statement cache of a statement's connection. */
G_LOCK_DEFINE_STATIC (stores);
static GHashTable *stores;  /* sqlite3 * -> SignetdStore * */

#define STMT_CACHE_MAX 128

G_DEFINE_QUARK (signetd-store-error-quark, signetd_store_error)

/* Ordered migrations: migrations[i] takes the schema from version i to
 * i + 1. Never edit a released one; append a new one. */
static const char * const migrations[] = {
  /* 0 → 1: accounts, failure counters, authority keys, sessions, tokens,
   * PoP replay cache, manufacturer CAs, revocations. */
  "CREATE TABLE users ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  role TEXT NOT NULL CHECK (role IN ('technician', 'supervisor', 'admin')),"
  "  password_hash TEXT NOT NULL,"
  "  totp_secret BLOB,"                       /* nonce || AES-256-GCM(secret) */
  "  totp_last_step INTEGER NOT NULL DEFAULT -1,"
  "  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),"
  "  created INTEGER NOT NULL"
  ");"
  "CREATE TABLE login_failures ("
  "  kind TEXT NOT NULL CHECK (kind IN ('user', 'address')),"
  "  subject TEXT NOT NULL,"
  "  count INTEGER NOT NULL,"
  "  last_failure INTEGER NOT NULL,"
  "  PRIMARY KEY (kind, subject)"
  ");"
  "CREATE TABLE authority_keys ("
  "  id INTEGER PRIMARY KEY,"
  "  kid TEXT NOT NULL UNIQUE,"
  "  public_key BLOB NOT NULL,"               /* SEC1 uncompressed */
  "  private_key BLOB NOT NULL,"              /* nonce || AES-256-GCM(PKCS#8 PEM) */
  "  created INTEGER NOT NULL,"
  "  retired INTEGER,"                        /* NULL: the current key */
  "  last_exp INTEGER NOT NULL DEFAULT 0"     /* latest exp of a token it signed */
  ");"
  "CREATE TABLE sessions ("
  "  id TEXT PRIMARY KEY,"
  "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
  "  created INTEGER NOT NULL,"
  "  max_until INTEGER NOT NULL,"
  "  auth_time INTEGER NOT NULL,"
  "  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))"
  ");"
  "CREATE INDEX sessions_user ON sessions (user_id);"
  "CREATE TABLE tokens ("
  "  cti BLOB PRIMARY KEY,"
  "  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
  "  kid TEXT NOT NULL,"
  "  iat INTEGER NOT NULL,"
  "  exp INTEGER NOT NULL"
  ");"
  "CREATE INDEX tokens_session ON tokens (session_id);"
  "CREATE TABLE pop_jti ("
  "  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,"
  "  jti BLOB NOT NULL,"
  "  expires INTEGER NOT NULL,"
  "  PRIMARY KEY (session_id, jti)"
  ");"
  "CREATE TABLE manufacturer_cas ("
  "  id INTEGER PRIMARY KEY,"
  "  fingerprint TEXT NOT NULL UNIQUE,"       /* SHA-256 of the DER, hex */
  "  subject TEXT NOT NULL,"
  "  pem TEXT NOT NULL,"
  "  added INTEGER NOT NULL"
  ");"
  "CREATE TABLE revocations ("
  "  kind TEXT NOT NULL CHECK (kind IN ('cti', 'sub', 'serial')),"
  "  value BLOB NOT NULL,"
  "  expires INTEGER,"                        /* NULL: listed until removed */
  "  added INTEGER NOT NULL,"
  "  PRIMARY KEY (kind, value)"
  ");"
  "CREATE TABLE revocation_list ("
  "  id INTEGER PRIMARY KEY CHECK (id = 1),"
  "  version INTEGER NOT NULL,"
  "  signed BLOB"
  ");"
  "INSERT INTO revocation_list (id, version, signed) VALUES (1, 0, NULL);",

  /* 1 → 2: the vault and device profiles. */
  "CREATE TABLE vault_secrets ("
  "  name TEXT PRIMARY KEY,"
  "  value BLOB NOT NULL,"                    /* nonce || AES-256-GCM(value), AAD vault:NAME */
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL"
  ");"
  "CREATE TABLE profiles ("
  "  id TEXT PRIMARY KEY,"
  "  version INTEGER NOT NULL CHECK (version >= 0),"
  "  model TEXT NOT NULL,"
  "  class TEXT NOT NULL CHECK (class IN ('config', 'credential', 'firmware')),"
  "  document TEXT NOT NULL,"                 /* the validated JSON, normalised */
  "  added INTEGER NOT NULL,"
  "  removed INTEGER"                         /* NULL: served; the row stays so versions only rise */
  ");"
  "CREATE INDEX profiles_model ON profiles (model);",

  /* 2 → 3: event logs (docs/api.md, "Logs"): each session's K_0, the
   * uploaded logs with their verifier state, segments, devices seen,
   * refused segments kept as evidence; the service's own audit logs. */
  "ALTER TABLE sessions ADD COLUMN log_key BLOB;"   /* nonce || AES-256-GCM(K_0), AAD log-key:SESSION */
  "CREATE TABLE logs ("
  "  id TEXT PRIMARY KEY,"                    /* a session id, or an audit log's id */
  "  kind TEXT NOT NULL CHECK (kind IN ('session', 'service')),"
  "  technician TEXT NOT NULL,"               /* the session's user; signetd for the service */
  "  started INTEGER NOT NULL,"               /* record 0's time, seconds */
  "  last_time INTEGER NOT NULL,"             /* the last record's time, seconds */
  "  ended INTEGER,"                          /* session.end's time once verified complete */
  "  records INTEGER NOT NULL DEFAULT 0,"     /* = next seq */
  "  bytes INTEGER NOT NULL DEFAULT 0,"
  "  head BLOB,"                              /* chain head (32 bytes) */
  "  sealed_seq INTEGER NOT NULL DEFAULT -1,"
  "  complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),"
  "  state BLOB,"                             /* nonce || AES-256-GCM(verifier state), AAD log-state:ID */
  "  file TEXT,"                              /* service logs: the file under DATA_DIR/audit */
  "  log_key BLOB,"                           /* sealed K_0, AAD log-key:ID (sessions), audit-log-key:ID */
  "  updated INTEGER NOT NULL"
  ");"
  "CREATE INDEX logs_started ON logs (started, id);"
  "CREATE INDEX logs_technician ON logs (technician);"
  "CREATE TABLE log_segments ("
  "  log_id TEXT NOT NULL REFERENCES logs (id) ON DELETE CASCADE,"
  "  first_seq INTEGER NOT NULL,"
  "  next_seq INTEGER NOT NULL,"
  "  offset INTEGER NOT NULL,"
  "  data BLOB NOT NULL,"
  "  sha256 BLOB NOT NULL,"
  "  head BLOB NOT NULL,"                     /* the chain head after it */
  "  sealed_seq INTEGER NOT NULL,"            /* the last sealed seq after it */
  "  received INTEGER NOT NULL,"
  "  PRIMARY KEY (log_id, first_seq)"
  ");"
  "CREATE TABLE log_devices ("
  "  log_id TEXT NOT NULL REFERENCES logs (id) ON DELETE CASCADE,"
  "  device TEXT NOT NULL,"
  "  PRIMARY KEY (log_id, device)"
  ");"
  "CREATE INDEX log_devices_device ON log_devices (device);"
  "CREATE TABLE rejected_segments ("
  "  id INTEGER PRIMARY KEY,"
  "  log_id TEXT NOT NULL,"                   /* no foreign key: evidence outlives everything */
  "  user TEXT,"
  "  received INTEGER NOT NULL,"
  "  status INTEGER NOT NULL,"
  "  reason TEXT NOT NULL,"
  "  message TEXT NOT NULL,"
  "  data BLOB NOT NULL,"
  "  sha256 BLOB NOT NULL"
  ");"
  "CREATE INDEX rejected_segments_log ON rejected_segments (log_id);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == SIGNETD_STORE_SCHEMA_VERSION);

gboolean
signetd_store_set_error (SignetdStore  *self,
                         int            rc,
                         const char    *what,
                         GError       **error)
{
  SignetdStoreError code;
  const char *detail = self != NULL && self->db != NULL ? sqlite3_errmsg (self->db)
                                                        : sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = SIGNETD_STORE_ERROR_BUSY;
      break;
    case SQLITE_CONSTRAINT:
      code = SIGNETD_STORE_ERROR_CONSTRAINT;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = SIGNETD_STORE_ERROR_CORRUPT;
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_PERM:
      code = SIGNETD_STORE_ERROR_IO;
      break;
    default:
      code = SIGNETD_STORE_ERROR_FAILED;
      break;
    }
  g_set_error (error, SIGNETD_STORE_ERROR, code, "database: %s: %s", what, detail);
  return FALSE;
}

sqlite3_stmt *
signetd_store_prepare (SignetdStore  *self,
                       const char    *sql,
                       GError       **error)
{
  sqlite3_stmt *stmt = NULL;
  gpointer key = NULL;
  int rc;

  if (g_hash_table_steal_extended (self->stmts, sql, &key, (gpointer *) &stmt))
    {
      g_free (key);
      return stmt;
    }
  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      signetd_store_set_error (self, rc, "prepare", error);
      return NULL;
    }
  return stmt;
}

void
signetd_store_release (sqlite3_stmt *stmt)
{
  SignetdStore *self = NULL;
  const char *sql;

  if (stmt == NULL)
    return;
  G_LOCK (stores);
  if (stores != NULL)
    self = g_hash_table_lookup (stores, sqlite3_db_handle (stmt));
  G_UNLOCK (stores);

  sql = sqlite3_sql (stmt);
  if (self == NULL || sql == NULL || g_hash_table_size (self->stmts) >= STMT_CACHE_MAX ||
      g_hash_table_contains (self->stmts, sql))
    {
      sqlite3_finalize (stmt);
      return;
    }
  /* Its result code was reported by the step that failed, if any. */
  (void) sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  g_hash_table_insert (self->stmts, g_strdup (sql), stmt);
}

static gboolean
bind_valist (SignetdStore  *self,
             sqlite3_stmt  *stmt,
             GError       **error,
             const char    *fmt,
             va_list        ap)
{
  int idx = 1;

  for (const char *f = fmt != NULL ? fmt : ""; *f != '\0'; f++, idx++)
    {
      int rc;

      switch (*f)
        {
        case 't':
          {
            const char *s = va_arg (ap, const char *);

            rc = s != NULL ? sqlite3_bind_text (stmt, idx, s, -1, SQLITE_TRANSIENT)
                           : sqlite3_bind_null (stmt, idx);
          }
          break;
        case 'i':
          rc = sqlite3_bind_int64 (stmt, idx, va_arg (ap, gint64));
          break;
        case 'b':
          {
            const void *p = va_arg (ap, const void *);
            gsize len = va_arg (ap, gsize);

            if (len > G_MAXINT)
              rc = SQLITE_TOOBIG;
            else
              rc = sqlite3_bind_blob (stmt, idx, p != NULL ? p : "", (int) len,
                                      SQLITE_TRANSIENT);
          }
          break;
        case 'B':
          {
            GBytes *bytes = va_arg (ap, GBytes *);
            gsize len = 0;
            gconstpointer p = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

            if (bytes == NULL)
              rc = sqlite3_bind_null (stmt, idx);
            else if (len > G_MAXINT)
              rc = SQLITE_TOOBIG;
            else
              rc = sqlite3_bind_blob (stmt, idx, p != NULL ? p : "", (int) len,
                                      SQLITE_TRANSIENT);
          }
          break;
        default:
          g_assert_not_reached ();
        }
      if (rc != SQLITE_OK)
        return signetd_store_set_error (self, rc, "bind", error);
    }
  return TRUE;
}

gboolean
signetd_store_bind (SignetdStore  *self,
                    sqlite3_stmt  *stmt,
                    GError       **error,
                    const char    *fmt,
                    ...)
{
  va_list ap;
  gboolean ok;

  va_start (ap, fmt);
  ok = bind_valist (self, stmt, error, fmt, ap);
  va_end (ap);
  return ok;
}

int
signetd_store_step (SignetdStore  *self,
                    sqlite3_stmt  *stmt,
                    GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return 1;
  if (rc == SQLITE_DONE)
    return 0;
  signetd_store_set_error (self, rc, "step", error);
  return -1;
}

gboolean
signetd_store_run (SignetdStore  *self,
                   gint          *out_changes,
                   GError       **error,
                   const char    *sql,
                   const char    *fmt,
                   ...)
{
  g_autoptr(sqlite3_stmt) stmt = signetd_store_prepare (self, sql, error);
  va_list ap;
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  va_start (ap, fmt);
  ok = bind_valist (self, stmt, error, fmt, ap);
  va_end (ap);
  if (!ok)
    return FALSE;
  for (;;)
    {
      int r = signetd_store_step (self, stmt, error);

      if (r < 0)
        return FALSE;
      if (r == 0)
        break;
    }
  if (out_changes != NULL)
    *out_changes = sqlite3_changes (self->db);
  return TRUE;
}

/* Run every statement of a constant script (migrations), one prepared
 * statement at a time. */
static gboolean
run_script (SignetdStore  *self,
            const char    *script,
            GError       **error)
{
  const char *tail = script;

  while (tail != NULL && *tail != '\0')
    {
      sqlite3_stmt *stmt = NULL;
      const char *next = NULL;
      int rc = sqlite3_prepare_v2 (self->db, tail, -1, &stmt, &next);

      if (rc != SQLITE_OK)
        return signetd_store_set_error (self, rc, "migration", error);
      if (stmt != NULL)
        {
          while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
            ;
          sqlite3_finalize (stmt);
          if (rc != SQLITE_DONE)
            return signetd_store_set_error (self, rc, "migration", error);
        }
      tail = next;
    }
  return TRUE;
}

gboolean
signetd_store_begin (SignetdStore  *self,
                     GError       **error)
{
  if (!self->in_group)
    return signetd_store_run (self, NULL, error, "BEGIN IMMEDIATE", NULL);
  if (!signetd_store_run (self, NULL, error, "SAVEPOINT op", NULL))
    return FALSE;
  self->savepoints++;
  return TRUE;
}

gboolean
signetd_store_commit (SignetdStore  *self,
                      GError       **error)
{
  if (!self->in_group)
    return signetd_store_run (self, NULL, error, "COMMIT", NULL);
  g_return_val_if_fail (self->savepoints > 0, FALSE);
  if (!signetd_store_run (self, NULL, error, "RELEASE op", NULL))
    return FALSE;
  self->savepoints--;
  return TRUE;
}

void
signetd_store_rollback (SignetdStore *self)
{
  g_autoptr(GError) local_error = NULL;

  if (sqlite3_get_autocommit (self->db))
    {
      /* SQLite rolled the whole transaction back itself (an I/O error,
       * a full disk): the group is lost; signetd_store_group_commit()
       * will say so. */
      self->savepoints = 0;
      return;
    }
  if (!self->in_group)
    {
      if (!signetd_store_run (self, NULL, &local_error, "ROLLBACK", NULL))
        g_warning ("%s", local_error->message);
      return;
    }
  if (self->savepoints == 0)
    return;
  /* ROLLBACK TO keeps the savepoint open; RELEASE ends it. */
  if (!signetd_store_run (self, NULL, &local_error, "ROLLBACK TO op", NULL) ||
      !signetd_store_run (self, NULL, &local_error, "RELEASE op", NULL))
    g_warning ("%s", local_error->message);
  self->savepoints--;
}

gboolean
signetd_store_group_begin (SignetdStore  *self,
                           GError       **error)
{
  g_return_val_if_fail (!self->in_group, FALSE);
  if (!signetd_store_run (self, NULL, error, "BEGIN IMMEDIATE", NULL))
    return FALSE;
  self->in_group = TRUE;
  self->savepoints = 0;
  return TRUE;
}

gboolean
signetd_store_in_group (SignetdStore *self)
{
  return self->in_group;
}

gboolean
signetd_store_group_commit (SignetdStore  *self,
                            GError       **error)
{
  g_return_val_if_fail (self->in_group, FALSE);
  g_warn_if_fail (self->savepoints == 0);
  self->in_group = FALSE;
  self->savepoints = 0;
  if (sqlite3_get_autocommit (self->db))
    {
      g_set_error_literal (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_IO,
                           "database: the group transaction was rolled back by an error");
      return FALSE;
    }
  if (!signetd_store_run (self, NULL, error, "COMMIT", NULL))
    {
      signetd_store_rollback (self);
      return FALSE;
    }
  return TRUE;
}

void
signetd_store_group_rollback (SignetdStore *self)
{
  g_return_if_fail (self->in_group);
  self->in_group = FALSE;
  self->savepoints = 0;
  signetd_store_rollback (self);
}

GBytes *
signetd_store_column_bytes (sqlite3_stmt *stmt,
                            int           col)
{
  const void *p;
  int len;

  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  p = sqlite3_column_blob (stmt, col);
  len = sqlite3_column_bytes (stmt, col);
  return g_bytes_new (p, (gsize) MAX (len, 0));
}

char *
signetd_store_column_text (sqlite3_stmt *stmt,
                           int           col)
{
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  return g_strdup ((const char *) sqlite3_column_text (stmt, col));
}

sqlite3 *
signetd_store_get_db (SignetdStore *self)
{
  return self->db;
}

gint64
signetd_store_get_schema_version (SignetdStore *self)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (self, "SELECT version FROM schema_version", NULL);

  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    return 0;
  return sqlite3_column_int64 (stmt, 0);
}

gboolean
signetd_store_migrate (SignetdStore  *self,
                       gint64         target,
                       GError       **error)
{
  gint64 version;

  g_return_val_if_fail (target >= 0 && target <= SIGNETD_STORE_SCHEMA_VERSION, FALSE);

  if (!signetd_store_begin (self, error))
    return FALSE;
  if (!signetd_store_run (self, NULL, error,
                          "CREATE TABLE IF NOT EXISTS schema_version ("
                          "  id INTEGER PRIMARY KEY CHECK (id = 1),"
                          "  version INTEGER NOT NULL)", NULL) ||
      !signetd_store_run (self, NULL, error,
                          "INSERT OR IGNORE INTO schema_version (id, version) VALUES (1, 0)",
                          NULL))
    goto fail;

  version = signetd_store_get_schema_version (self);
  if (version > SIGNETD_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, SIGNETD_STORE_ERROR, SIGNETD_STORE_ERROR_SCHEMA,
                   "database: schema version %" G_GINT64_FORMAT " is newer than this "
                   "signetd supports (%d)", version, SIGNETD_STORE_SCHEMA_VERSION);
      goto fail;
    }
  for (; version < target; version++)
    {
      if (!run_script (self, migrations[version], error) ||
          !signetd_store_run (self, NULL, error,
                              "UPDATE schema_version SET version = ?", "i", version + 1))
        goto fail;
    }
  return signetd_store_commit (self, error);

fail:
  signetd_store_rollback (self);
  return FALSE;
}

static gboolean
pragma (SignetdStore  *self,
        const char    *sql,
        GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt = signetd_store_prepare (self, sql, error);

  if (stmt == NULL)
    return FALSE;
  while (TRUE)
    {
      int r = signetd_store_step (self, stmt, error);

      if (r < 0)
        return FALSE;
      if (r == 0)
        return TRUE;
    }
}

SignetdStore *
signetd_store_open (const char  *path,
                    gboolean     create,
                    GError     **error)
{
  g_autoptr(SignetdStore) self = g_new0 (SignetdStore, 1);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_PRIVATECACHE;
  gboolean memory = g_str_equal (path, ":memory:");
  int rc;

  self->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (create)
    flags |= SQLITE_OPEN_CREATE;
  rc = sqlite3_open_v2 (path, &self->db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      signetd_store_set_error (self, rc, path, error);
      return NULL;
    }
  G_LOCK (stores);
  if (stores == NULL)
    stores = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (stores, self->db, self);
  G_UNLOCK (stores);
  sqlite3_extended_result_codes (self->db, 1);

  /* The busy timeout first: the WAL switch itself may wait for a lock. */
  if (sqlite3_busy_timeout (self->db, 5000) != SQLITE_OK ||
      !pragma (self, "PRAGMA foreign_keys = ON", error) ||
      (!memory && !pragma (self, "PRAGMA journal_mode = WAL", error)) ||
      /* FULL: a lockout counter must survive a power loss too. */
      !pragma (self, "PRAGMA synchronous = FULL", error) ||
      !pragma (self, "PRAGMA secure_delete = ON", error))
    return NULL;

  if (!signetd_store_migrate (self, SIGNETD_STORE_SCHEMA_VERSION, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
signetd_store_free (SignetdStore *self)
{
  GHashTableIter iter;
  gpointer stmt;

  if (self == NULL)
    return;
  G_LOCK (stores);
  if (stores != NULL && self->db != NULL)
    g_hash_table_remove (stores, self->db);
  G_UNLOCK (stores);
  g_hash_table_iter_init (&iter, self->stmts);
  while (g_hash_table_iter_next (&iter, NULL, &stmt))
    sqlite3_finalize (stmt);
  g_hash_table_destroy (self->stmts);
  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_free (self);
}
