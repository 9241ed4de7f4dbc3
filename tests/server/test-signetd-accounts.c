/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-accounts: names, password policy, roles and scopes,
 * argon2id, TOTP replay refusal.
 */
#include "config.h"

#include <string.h>

#include "signet-otpauth.h"
#include "signet-secret.h"
#include "signet-totp.h"
#include "signetd-accounts.h"

static void
test_names (void)
{
  const char *good[] = { "alice", "a", "bob.smith", "x_1-2", NULL };
  const char *bad[] = { "", "Alice", "a b", "alice'--", "x'; DROP TABLE users; --",
                        "\xc3\xa9", "a/b", NULL };
  g_autofree char *long_name = g_strnfill (65, 'a');
  g_autofree char *max_name = g_strnfill (64, 'a');

  for (gsize i = 0; good[i] != NULL; i++)
    g_assert_true (signetd_accounts_validate_name (good[i], NULL));
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (signetd_accounts_validate_name (bad[i], &error));
      g_assert_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_INVALID_NAME);
    }
  g_assert_true (signetd_accounts_validate_name (max_name, NULL));
  g_assert_false (signetd_accounts_validate_name (long_name, NULL));
  g_assert_false (signetd_accounts_validate_name (NULL, NULL));
}

static void
test_passwords (void)
{
  g_autofree char *hash = NULL;

  g_assert_false (signetd_accounts_check_password_policy ("short", NULL));
  g_assert_false (signetd_accounts_check_password_policy ("eleven char", NULL));
  g_assert_true (signetd_accounts_check_password_policy ("twelve chars", NULL));
  /* Characters, not bytes. */
  g_assert_false (signetd_accounts_check_password_policy ("ééééééééééé", NULL));
  g_assert_false (signetd_accounts_check_password_policy ("twelve\tchars!", NULL));

  hash = signetd_password_hash ("correct horse battery", NULL);
  g_assert_true (g_str_has_prefix (hash, "$argon2id$v=19$m=19456,t=2,p=1$"));
  g_assert_true (signetd_password_verify (hash, "correct horse battery"));
  g_assert_false (signetd_password_verify (hash, "correct horse batterx"));
  g_assert_false (signetd_password_verify (NULL, "correct horse battery"));
  g_assert_false (signetd_password_verify ("$garbage", "correct horse battery"));
}

static void
test_roles (void)
{
  SignetdRole role;

  g_assert_true (signetd_role_from_string ("supervisor", &role));
  g_assert_cmpint (role, ==, SIGNETD_ROLE_SUPERVISOR);
  g_assert_false (signetd_role_from_string ("root", &role));
  g_assert_cmpstr (signetd_role_get_scope (SIGNETD_ROLE_SUPERVISOR), ==, "log.read log.upload");
  g_assert_nonnull (strstr (signetd_role_get_scope (SIGNETD_ROLE_ADMIN), "firmware.update"));
  g_assert_nonnull (strstr (signetd_role_get_scope (SIGNETD_ROLE_ADMIN), "log.read"));
  g_assert_null (strstr (signetd_role_get_scope (SIGNETD_ROLE_TECHNICIAN), "log.read"));
}

static void
test_totp_replay (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  guint8 k[SIGNETD_MASTER_KEY_LEN] = { 1 };
  g_autoptr(GBytes) master = signet_secret_bytes_new (k, sizeof k);
  g_autoptr(SignetdKeys) keys = signetd_keys_new_with_master (master, store);
  g_autoptr(SignetdAccounts) accounts = signetd_accounts_new (store, keys);
  g_auto(SignetSecretString) uri = NULL;
  g_autoptr(SignetOtpauth) otp = NULL;
  g_autoptr(SignetdUser) user = NULL;
  g_auto(SignetSecretString) code = NULL;
  g_auto(SignetSecretString) next = NULL;
  gint64 now = 1700000000;

  uri = signetd_accounts_add (accounts, "alice", SIGNETD_ROLE_TECHNICIAN,
                              "correct horse battery", now, &error);
  g_assert_no_error (error);
  g_assert_null (signetd_accounts_add (accounts, "alice", SIGNETD_ROLE_ADMIN,
                                       "correct horse battery", now, &error));
  g_assert_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_EXISTS);
  g_clear_error (&error);

  otp = signet_otpauth_parse (uri, &error);
  g_assert_no_error (error);
  user = signetd_accounts_lookup (accounts, "alice", &error);
  g_assert_no_error (error);
  code = signet_totp_generate (signet_otpauth_get_secret (otp), now, 30, 6,
                               SIGNET_TOTP_ALGORITHM_SHA1, &error);
  next = signet_totp_generate (signet_otpauth_get_secret (otp), now + 30, 30, 6,
                               SIGNET_TOTP_ALGORITHM_SHA1, &error);

  g_assert_true (signetd_accounts_check_totp (accounts, user, code, now, 1, &error));
  g_assert_no_error (error);
  g_assert_false (signetd_accounts_check_totp (accounts, user, code, now, 1, &error));
  g_assert_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_REPLAYED);
  g_clear_error (&error);
  g_assert_false (signetd_accounts_check_totp (accounts, user, "12345x", now, 1, &error));
  g_assert_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_BAD_CODE);
  g_clear_error (&error);
  g_assert_true (signetd_accounts_check_totp (accounts, user, next, now, 1, &error));
  /* The older step is refused once a newer one was accepted. */
  g_assert_false (signetd_accounts_check_totp (accounts, user, code, now + 30, 1, &error));
  g_assert_error (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_REPLAYED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/accounts/names", test_names);
  g_test_add_func ("/signetd/accounts/passwords", test_passwords);
  g_test_add_func ("/signetd/accounts/roles", test_roles);
  g_test_add_func ("/signetd/accounts/totp-replay", test_totp_replay);
  return g_test_run ();
}
