/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "signetd-lockout.h"

gint64
signetd_lockout_backoff (guint  count,
                         guint  after,
                         gint64 max)
{
  guint exponent;

  if (count < after || max <= 0)
    return 0;
  exponent = count - after;
  /* 2^62 is the largest power a gint64 holds; any cap is below it. */
  if (exponent >= 62 || (G_GINT64_CONSTANT (1) << exponent) >= max)
    return max;
  return G_GINT64_CONSTANT (1) << exponent;
}

static gboolean
get_counter (SignetdStore  *store,
             const char    *kind,
             const char    *subject,
             guint         *out_count,
             gint64        *out_last,
             GError       **error)
{
  g_autoptr(sqlite3_stmt) stmt =
    signetd_store_prepare (store, "SELECT count, last_failure FROM login_failures "
                                  "WHERE kind = ? AND subject = ?", error);
  int r;

  *out_count = 0;
  *out_last = 0;
  if (stmt == NULL || !signetd_store_bind (store, stmt, error, "tt", kind, subject))
    return FALSE;
  r = signetd_store_step (store, stmt, error);
  if (r < 0)
    return FALSE;
  if (r == 1)
    {
      *out_count = (guint) CLAMP (sqlite3_column_int64 (stmt, 0), 0, G_MAXUINT);
      *out_last = sqlite3_column_int64 (stmt, 1);
    }
  return TRUE;
}

gboolean
signetd_lockout_get_count (SignetdStore  *store,
                           const char    *user,
                           guint         *out_count,
                           GError       **error)
{
  gint64 last;

  return get_counter (store, "user", user, out_count, &last, error);
}

/* When the next attempt may come: last_failure has a resolution of one
 * second, so the failure happened somewhere in [last, last + 1), and the
 * window ends a second later than last + backoff so that it is never
 * shorter than the back-off (with whole seconds it could otherwise shrink
 * to almost nothing). 0 when there is no back-off. */
static gint64
window_end (gint64 last,
            gint64 backoff)
{
  return backoff > 0 ? last + 1 + backoff : 0;
}

gboolean
signetd_lockout_check (SignetdStore                *store,
                       const SignetdLockoutPolicy  *policy,
                       const char                  *user,
                       const char                  *address,
                       gint64                       now,
                       SignetdLockoutVerdict       *out_verdict,
                       gint64                      *out_retry_after,
                       GError                     **error)
{
  gint64 wait = 0;
  guint count;
  gint64 last;

  *out_verdict = SIGNETD_LOCKOUT_OK;
  *out_retry_after = 0;

  if (user != NULL)
    {
      if (!get_counter (store, "user", user, &count, &last, error))
        return FALSE;
      if (count >= policy->lock_after)
        {
          *out_verdict = SIGNETD_LOCKOUT_LOCKED;
          return TRUE;
        }
      wait = MAX (wait, window_end (last, signetd_lockout_backoff (count, policy->backoff_after,
                                                                   policy->backoff_max)) - now);
    }
  if (address != NULL)
    {
      if (!get_counter (store, "address", address, &count, &last, error))
        return FALSE;
      wait = MAX (wait, window_end (last,
                                    signetd_lockout_backoff (count, policy->address_backoff_after,
                                                             policy->backoff_max)) - now);
    }
  if (wait > 0)
    {
      *out_verdict = SIGNETD_LOCKOUT_RATE_LIMITED;
      *out_retry_after = wait;
    }
  return TRUE;
}

static gboolean
bump (SignetdStore  *store,
      const char    *kind,
      const char    *subject,
      gint64         now,
      GError       **error)
{
  return signetd_store_run (store, NULL, error,
                            "INSERT INTO login_failures (kind, subject, count, last_failure) "
                            "VALUES (?, ?, 1, ?) "
                            "ON CONFLICT (kind, subject) DO UPDATE SET "
                            "count = count + 1, last_failure = excluded.last_failure",
                            "tti", kind, subject, now);
}

gboolean
signetd_lockout_record_failure (SignetdStore  *store,
                                const char    *user,
                                const char    *address,
                                gint64         now,
                                GError       **error)
{
  if (!signetd_store_begin (store, error))
    return FALSE;
  if ((user != NULL && !bump (store, "user", user, now, error)) ||
      (address != NULL && !bump (store, "address", address, now, error)) ||
      !signetd_store_commit (store, error))
    {
      signetd_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

gboolean
signetd_lockout_reset (SignetdStore  *store,
                       const char    *user,
                       const char    *address,
                       GError       **error)
{
  if (user != NULL &&
      !signetd_store_run (store, NULL, error,
                          "DELETE FROM login_failures WHERE kind = 'user' AND subject = ?",
                          "t", user))
    return FALSE;
  if (address != NULL &&
      !signetd_store_run (store, NULL, error,
                          "DELETE FROM login_failures WHERE kind = 'address' AND subject = ?",
                          "t", address))
    return FALSE;
  return TRUE;
}
