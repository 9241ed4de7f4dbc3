/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-lockout: the back-off arithmetic, and counters, back-off and
 * lock on an in-memory database.
 */
#include "config.h"

#include "signetd-lockout.h"
#include "signetd-store.h"

static void
test_backoff_math (void)
{
  g_assert_cmpint (signetd_lockout_backoff (0, 5, 900), ==, 0);
  g_assert_cmpint (signetd_lockout_backoff (4, 5, 900), ==, 0);
  g_assert_cmpint (signetd_lockout_backoff (5, 5, 900), ==, 1);
  g_assert_cmpint (signetd_lockout_backoff (6, 5, 900), ==, 2);
  g_assert_cmpint (signetd_lockout_backoff (9, 5, 900), ==, 16);
  g_assert_cmpint (signetd_lockout_backoff (14, 5, 900), ==, 512);
  g_assert_cmpint (signetd_lockout_backoff (15, 5, 900), ==, 900);
  /* No overflow, however many failures. */
  g_assert_cmpint (signetd_lockout_backoff (70, 5, 900), ==, 900);
  g_assert_cmpint (signetd_lockout_backoff (G_MAXUINT, 0, 900), ==, 900);
  g_assert_cmpint (signetd_lockout_backoff (5, 5, 0), ==, 0);
}

static void
test_policy (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  SignetdLockoutPolicy policy = { 2, 4, 900, 3 };
  SignetdLockoutVerdict verdict;
  gint64 retry = 0;
  guint count = 0;

  g_assert_no_error (error);
  g_assert_true (signetd_lockout_check (store, &policy, "bob", "10.0.0.1", 1000, &verdict,
                                        &retry, &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_OK);

  g_assert_true (signetd_lockout_record_failure (store, "bob", "10.0.0.1", 1000, &error));
  g_assert_true (signetd_lockout_record_failure (store, "bob", "10.0.0.1", 1000, &error));
  g_assert_true (signetd_lockout_check (store, &policy, "bob", NULL, 1000, &verdict, &retry,
                                        &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_RATE_LIMITED);
  /* The failures happened somewhere in second 1000: a 1 s back-off must
   * still hold at 1001 (it could be 1000.99) and end by 1002. */
  g_assert_cmpint (retry, ==, 2);
  g_assert_true (signetd_lockout_check (store, &policy, "bob", NULL, 1001, &verdict, &retry,
                                        &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_RATE_LIMITED);
  g_assert_cmpint (retry, ==, 1);
  g_assert_true (signetd_lockout_check (store, &policy, "bob", NULL, 1002, &verdict, &retry,
                                        &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_OK);
  /* Another name is not affected; the address is below its threshold. */
  g_assert_true (signetd_lockout_check (store, &policy, "eve", "10.0.0.1", 1000, &verdict,
                                        &retry, &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_OK);
  /* The third failure from the address trips the address back-off. */
  g_assert_true (signetd_lockout_record_failure (store, "eve", "10.0.0.1", 1000, &error));
  g_assert_true (signetd_lockout_check (store, &policy, "carl", "10.0.0.1", 1000, &verdict,
                                        &retry, &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_RATE_LIMITED);

  g_assert_true (signetd_lockout_record_failure (store, "bob", NULL, 1002, &error));
  g_assert_true (signetd_lockout_record_failure (store, "bob", NULL, 1010, &error));
  g_assert_true (signetd_lockout_get_count (store, "bob", &count, &error));
  g_assert_cmpuint (count, ==, 4);
  g_assert_true (signetd_lockout_check (store, &policy, "bob", NULL, 99999, &verdict, &retry,
                                        &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_LOCKED);

  g_assert_true (signetd_lockout_reset (store, "bob", NULL, &error));
  g_assert_true (signetd_lockout_check (store, &policy, "bob", NULL, 1010, &verdict, &retry,
                                        &error));
  g_assert_cmpint (verdict, ==, SIGNETD_LOCKOUT_OK);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/lockout/backoff-math", test_backoff_math);
  g_test_add_func ("/signetd/lockout/policy", test_policy);
  return g_test_run ();
}
