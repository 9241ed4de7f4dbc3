/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-totp-oathtool: signet-totp against the real oathtool program.
 *
 * Random keys, times, periods, digit counts and algorithms (reproducible
 * with --seed): oathtool's code equals ours, our verify accepts oathtool's
 * codes from neighbouring steps, and oathtool accepts ours. The key goes to
 * oathtool on standard input ("-"), never on its command line, as a real
 * key should. Skipped only if oathtool is not installed.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "signet-secret.h"
#include "signet-totp.h"

#define ITERATIONS 25

static char *oathtool_path;

static const char * const totp_modes[] = {
  [SIGNET_TOTP_ALGORITHM_SHA1] = "--totp=SHA1",
  [SIGNET_TOTP_ALGORITHM_SHA256] = "--totp=SHA256",
  [SIGNET_TOTP_ALGORITHM_SHA512] = "--totp=SHA512",
};

typedef struct {
  GBytes *secret;
  gint64 time;
  guint period;
  guint digits;
  SignetTotpAlgorithm algorithm;
} Case;

static void
case_clear (Case *c)
{
  g_clear_pointer (&c->secret, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Case, case_clear)

static void
case_init_random (Case               *c,
                  SignetTotpAlgorithm algorithm)
{
  static const guint common_periods[] = { 30, 60, 15, 90 };
  gsize len = (gsize) g_test_rand_int_range (SIGNET_TOTP_SECRET_MIN_LEN, 65);
  guint8 *key = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    key[i] = (guint8) g_test_rand_int_range (0, 256);
  c->secret = signet_secret_bytes_new_take (key, len);
  /* Up to 2^34 s (year 2514): past 2038 and 2106, where 32-bit time
   * arithmetic breaks. */
  c->time = (gint64) (g_test_rand_double () * (double) (G_GINT64_CONSTANT (1) << 34));
  /* Room for a step before it, so no test asks about a negative time. */
  c->time += SIGNET_TOTP_PERIOD_MAX;
  if (g_test_rand_bit ())
    c->period = common_periods[g_test_rand_int_range (0, G_N_ELEMENTS (common_periods))];
  else
    c->period = (guint) g_test_rand_int_range (1, SIGNET_TOTP_PERIOD_MAX + 1);
  c->digits = (guint) g_test_rand_int_range (SIGNET_TOTP_DIGITS_MIN, SIGNET_TOTP_DIGITS_MAX + 1);
  c->algorithm = algorithm;
}

/* Runs oathtool for c at time t; with otp, asks it to validate otp (window
 * 0) instead of generating. Returns its standard output without the
 * newline, NULL if it exited non-zero. */
static char *
run_oathtool (const Case *c,
              gint64      t,
              const char *otp)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(SignetSecretString) b32 = NULL;
  g_auto(SignetSecretString) input = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  b32 = signet_totp_secret_to_base32 (c->secret, &error);
  g_assert_no_error (error);
  input = g_strconcat (b32, "\n", NULL);

  g_ptr_array_add (argv, g_strdup (oathtool_path));
  g_ptr_array_add (argv, g_strdup (totp_modes[c->algorithm]));
  g_ptr_array_add (argv, g_strdup_printf ("--digits=%u", c->digits));
  g_ptr_array_add (argv, g_strdup_printf ("--time-step-size=%us", c->period));
  g_ptr_array_add (argv, g_strdup ("--base32"));
  g_ptr_array_add (argv, g_strdup_printf ("--now=@%" G_GINT64_FORMAT, t));
  if (otp != NULL)
    g_ptr_array_add (argv, g_strdup ("--window=0"));
  g_ptr_array_add (argv, g_strdup ("-"));
  if (otp != NULL)
    g_ptr_array_add (argv, g_strdup (otp));
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                            G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, input, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_test_message ("oathtool failed: %s", err != NULL ? err : "");
      return NULL;
    }
  g_strchomp (out);
  return g_steal_pointer (&out);
}

static gboolean
skip_without_oathtool (void)
{
  if (oathtool_path != NULL)
    return FALSE;
  g_test_skip ("oathtool is not installed (Debian: apt install oathtool)");
  return TRUE;
}

static void
test_generate (gconstpointer data)
{
  SignetTotpAlgorithm algorithm = GPOINTER_TO_INT (data);

  if (skip_without_oathtool ())
    return;

  for (guint i = 0; i < ITERATIONS; i++)
    {
      g_auto(Case) c = { 0, };
      g_autoptr(GError) error = NULL;
      g_auto(SignetSecretString) ours = NULL;
      g_auto(SignetSecretString) theirs = NULL;

      case_init_random (&c, algorithm);
      ours = signet_totp_generate (c.secret, c.time, c.period, c.digits, c.algorithm, &error);
      g_assert_no_error (error);
      theirs = run_oathtool (&c, c.time, NULL);
      g_assert_nonnull (theirs);
      g_assert_cmpstr (ours, ==, theirs);
    }
}

/* oathtool's codes for the steps around now are accepted, at the step
 * they belong to; one step further is not. */
static void
test_verify (gconstpointer data)
{
  SignetTotpAlgorithm algorithm = GPOINTER_TO_INT (data);

  if (skip_without_oathtool ())
    return;

  for (guint i = 0; i < ITERATIONS; i++)
    {
      g_auto(Case) c = { 0, };
      guint64 now_step;

      case_init_random (&c, algorithm);
      now_step = (guint64) c.time / c.period;
      for (int offset = -1; offset <= 1; offset++)
        {
          g_autoptr(GError) error = NULL;
          g_auto(SignetSecretString) theirs = NULL;
          guint64 step = 0;

          theirs = run_oathtool (&c, c.time + (gint64) offset * c.period, NULL);
          g_assert_nonnull (theirs);
          g_assert_true (signet_totp_verify (c.secret, theirs, c.time, c.period, c.digits,
                                             c.algorithm, 1, &step, &error));
          g_assert_no_error (error);
          /* A code may also be that of another step in the window (a
           * 10^-digits coincidence); then the latest step is reported. */
          g_assert_cmpuint (step, >=, now_step + offset);
          g_assert_cmpuint (step, <=, now_step + 1);
        }
    }
}

static void
test_oathtool_validates_ours (gconstpointer data)
{
  SignetTotpAlgorithm algorithm = GPOINTER_TO_INT (data);

  if (skip_without_oathtool ())
    return;

  for (guint i = 0; i < ITERATIONS; i++)
    {
      g_auto(Case) c = { 0, };
      g_autoptr(GError) error = NULL;
      g_auto(SignetSecretString) ours = NULL;
      g_autofree char *position = NULL;

      case_init_random (&c, algorithm);
      ours = signet_totp_generate (c.secret, c.time, c.period, c.digits, c.algorithm, &error);
      g_assert_no_error (error);
      /* oathtool prints the matching position in its window: 0. */
      position = run_oathtool (&c, c.time, ours);
      g_assert_cmpstr (position, ==, "0");
    }
}

/* The RFC 6238 key through oathtool, as a check of the harness itself. */
static void
test_rfc_vector (void)
{
  g_auto(Case) c = { 0, };
  g_autofree char *theirs = NULL;

  if (skip_without_oathtool ())
    return;

  c.secret = signet_secret_bytes_new ("12345678901234567890", 20);
  c.time = 59;
  c.period = 30;
  c.digits = 8;
  c.algorithm = SIGNET_TOTP_ALGORITHM_SHA1;
  theirs = run_oathtool (&c, c.time, NULL);
  g_assert_cmpstr (theirs, ==, "94287082");
}

int
main (int    argc,
      char **argv)
{
  static const char * const names[] = { "sha1", "sha256", "sha512" };
  int ret;

  g_test_init (&argc, &argv, NULL);

  oathtool_path = g_find_program_in_path ("oathtool");

  g_test_add_func ("/signet/totp/oathtool/rfc6238", test_rfc_vector);
  for (int a = SIGNET_TOTP_ALGORITHM_SHA1; a <= SIGNET_TOTP_ALGORITHM_SHA512; a++)
    {
      g_autofree char *gen = g_strdup_printf ("/signet/totp/oathtool/generate/%s", names[a]);
      g_autofree char *ver = g_strdup_printf ("/signet/totp/oathtool/verify/%s", names[a]);
      g_autofree char *val = g_strdup_printf ("/signet/totp/oathtool/validate/%s", names[a]);

      g_test_add_data_func (gen, GINT_TO_POINTER (a), test_generate);
      g_test_add_data_func (ver, GINT_TO_POINTER (a), test_verify);
      g_test_add_data_func (val, GINT_TO_POINTER (a), test_oathtool_validates_ours);
    }

  ret = g_test_run ();
  g_free (oathtool_path);
  return ret;
}
