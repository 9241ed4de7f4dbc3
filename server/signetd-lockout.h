/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-lockout.h: failure counting, exponential back-off and lockout
 * for sign-in, persisted in the `login_failures` table so a restart of
 * signetd resets nothing.
 *
 * Two counters are kept per failed attempt: one for the user name given
 * (whether or not such a user exists, so the answers do not tell which
 * names exist) and one for the client address. Policy (signetd.conf
 * [lockout], defaults in brackets):
 *
 *   n failures of a name, n >= backoff_after [5]: the next attempt is
 *     refused (429 + Retry-After) until 2^(n - backoff_after) s after the
 *     last failure, at most backoff_max [900] s;
 *   n >= lock_after [10]: the name is locked (423) until an administrator
 *     runs `signetd user unlock NAME`;
 *   n failures from one address, n >= address_backoff_after [20]: the same
 *     back-off for that address (addresses are never locked: many
 *     technicians may share a NAT).
 *
 * An attempt refused by back-off or lock is not checked and not counted.
 * A successful sign-in clears the name's counter (the address's decays by
 * the same success).
 */
#pragma once

#include <glib.h>

#include "signetd-store.h"

G_BEGIN_DECLS

typedef struct {
  guint backoff_after;
  guint lock_after;
  gint64 backoff_max;
  guint address_backoff_after;
} SignetdLockoutPolicy;

typedef enum {
  SIGNETD_LOCKOUT_OK,
  SIGNETD_LOCKOUT_RATE_LIMITED,  /* retry_after says when */
  SIGNETD_LOCKOUT_LOCKED,        /* until an admin unlocks */
} SignetdLockoutVerdict;

/* The back-off after count failures: 0 below after, else
 * min (2^(count - after), max) seconds, without overflow. */
gint64   signetd_lockout_backoff   (guint          count,
                                    guint          after,
                                    gint64         max);

/* May a sign-in for user (nullable: a name not worth counting) from
 * address be checked at now? On SIGNETD_LOCKOUT_RATE_LIMITED,
 * *out_retry_after is the seconds to wait (>= 1). Returns FALSE only on a
 * database error. */
gboolean signetd_lockout_check     (SignetdStore                *store,
                                    const SignetdLockoutPolicy  *policy,
                                    const char                  *user,
                                    const char                  *address,
                                    gint64                       now,
                                    SignetdLockoutVerdict       *out_verdict,
                                    gint64                      *out_retry_after,
                                    GError                     **error);

/* Count a failure for user (nullable) and address. */
gboolean signetd_lockout_record_failure (SignetdStore  *store,
                                         const char    *user,
                                         const char    *address,
                                         gint64         now,
                                         GError       **error);

/* Forget the failures of user (and of address if not NULL). */
gboolean signetd_lockout_reset     (SignetdStore  *store,
                                    const char    *user,
                                    const char    *address,
                                    GError       **error);

/* The failures counted for user (0 if none). */
gboolean signetd_lockout_get_count (SignetdStore  *store,
                                    const char    *user,
                                    guint         *out_count,
                                    GError       **error);

G_END_DECLS
