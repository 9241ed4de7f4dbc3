/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <openssl/rand.h>

#include "signet-otpauth.h"
#include "signet-secret.h"

struct _SignetOtpauth
{
  char                *issuer;    /* nullable */
  char                *account;
  GBytes              *secret;    /* self-wiping */
  SignetTotpAlgorithm  algorithm;
  guint                digits;
  guint                period;
};

G_DEFINE_BOXED_TYPE (SignetOtpauth, signet_otpauth, signet_otpauth_ref, signet_otpauth_unref)

G_DEFINE_QUARK (signet-otpauth-error-quark, signet_otpauth_error)

static void
otpauth_clear (gpointer data)
{
  SignetOtpauth *self = data;

  g_clear_pointer (&self->issuer, g_free);
  g_clear_pointer (&self->account, g_free);
  g_clear_pointer (&self->secret, g_bytes_unref);
}

/* Issuer and account are shown in the UI and written to logs: refuse what
 * could forge a line there (controls, line separators) or reorder what is
 * shown (bidirectional embeddings, overrides and isolates). */
static gboolean
text_is_acceptable (const char *text)
{
  if (text == NULL || *text == '\0' || !g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if (type == G_UNICODE_CONTROL ||
          type == G_UNICODE_LINE_SEPARATOR ||
          type == G_UNICODE_PARAGRAPH_SEPARATOR ||
          (c >= 0x202A && c <= 0x202E) ||
          (c >= 0x2066 && c <= 0x2069))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_secret_length (gsize    len,
                     GError **error)
{
  if (len < SIGNET_TOTP_SECRET_MIN_LEN)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT,
                   "The TOTP secret has %" G_GSIZE_FORMAT " bits; at least %u are needed",
                   len * 8, (guint) SIGNET_TOTP_SECRET_MIN_LEN * 8);
      return FALSE;
    }
  if (len > SIGNET_TOTP_SECRET_MAX_LEN)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG,
                   "The TOTP secret has %" G_GSIZE_FORMAT " bytes; at most %u are allowed",
                   len, (guint) SIGNET_TOTP_SECRET_MAX_LEN);
      return FALSE;
    }
  return TRUE;
}

SignetOtpauth *
signet_otpauth_new (const char           *issuer,
                    const char           *account,
                    GBytes               *secret,
                    SignetTotpAlgorithm   algorithm,
                    guint                 digits,
                    guint                 period,
                    GError              **error)
{
  SignetOtpauth *self;
  gconstpointer data;
  gsize len;

  g_return_val_if_fail (account != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (issuer != NULL && !text_is_acceptable (issuer))
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_ISSUER,
                           "The issuer must be non-empty UTF-8 text without control "
                           "or bidirectional-override characters");
      return NULL;
    }
  if (!text_is_acceptable (account))
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_LABEL,
                           "The account name must be non-empty UTF-8 text without "
                           "control or bidirectional-override characters");
      return NULL;
    }
  if (account[0] == ' ')
    {
      /* Apps strip spaces after the label's ':', so it would not survive. */
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_LABEL,
                           "The account name must not begin with a space");
      return NULL;
    }
  if (issuer == NULL && strchr (account, ':') != NULL)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_LABEL,
                           "An account name without an issuer must not contain ':' "
                           "(it would read as an issuer prefix)");
      return NULL;
    }
  data = g_bytes_get_data (secret, &len);
  if (!check_secret_length (len, error))
    return NULL;
  if (signet_totp_algorithm_to_string (algorithm) == NULL)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM,
                   "Unknown TOTP algorithm %d", (int) algorithm);
      return NULL;
    }
  if (digits < SIGNET_TOTP_DIGITS_MIN || digits > SIGNET_TOTP_DIGITS_MAX)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_DIGITS,
                   "TOTP codes must have %u to %u digits, not %u",
                   (guint) SIGNET_TOTP_DIGITS_MIN, (guint) SIGNET_TOTP_DIGITS_MAX, digits);
      return NULL;
    }
  if (period == 0 || period > SIGNET_TOTP_PERIOD_MAX)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_PERIOD,
                   "The TOTP period must be between 1 and %u seconds, not %u",
                   (guint) SIGNET_TOTP_PERIOD_MAX, period);
      return NULL;
    }

  self = g_atomic_rc_box_new0 (SignetOtpauth);
  self->issuer = g_strdup (issuer);
  self->account = g_strdup (account);
  /* A private, self-wiping copy: the caller's GBytes may not wipe. */
  self->secret = signet_secret_bytes_new (data, len);
  self->algorithm = algorithm;
  self->digits = digits;
  self->period = period;
  return self;
}

static gboolean
set_label_error (GError     **error,
                 const char  *message)
{
  g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_LABEL,
                       message);
  return FALSE;
}

/* Splits the label into an issuer prefix (nullable) and an account. The
 * format separates them by a literal ':' or by "%3A"; a literal ':' wins,
 * so that a ':' inside a name can be sent as "%3A" (which is what
 * signet_otpauth_to_uri() does). g_uri_unescape_segment() refuses bad
 * escapes and "%00". */
static gboolean
parse_label (const char  *label,
             char       **out_issuer,
             char       **out_account,
             GError     **error)
{
  g_autofree char *issuer = NULL;
  g_autofree char *account = NULL;
  const char *colon = strchr (label, ':');
  const char *acc;

  if (colon != NULL)
    {
      if (colon == label)
        return set_label_error (error, "The otpauth URI's label has an empty issuer before ':'");
      issuer = g_uri_unescape_segment (label, colon, NULL);
      account = g_uri_unescape_segment (colon + 1, NULL, NULL);
      if (issuer == NULL || account == NULL)
        return set_label_error (error, "The otpauth URI's label has invalid %-escapes");
    }
  else
    {
      g_autofree char *whole = g_uri_unescape_segment (label, NULL, NULL);
      const char *sep;

      if (whole == NULL)
        return set_label_error (error, "The otpauth URI's label has invalid %-escapes");
      sep = strchr (whole, ':');
      if (sep == whole)
        return set_label_error (error, "The otpauth URI's label has an empty issuer before ':'");
      if (sep != NULL)
        {
          issuer = g_strndup (whole, sep - whole);
          account = g_strdup (sep + 1);
        }
      else
        {
          account = g_steal_pointer (&whole);
        }
    }
  if (issuer != NULL && !text_is_acceptable (issuer))
    return set_label_error (error, "The otpauth URI's issuer prefix is not UTF-8 text");

  /* "Issuer: account" is allowed: spaces after the separator are not part
   * of the account name. */
  acc = account;
  while (*acc == ' ')
    acc++;
  if (*acc == '\0')
    return set_label_error (error, "The otpauth URI has no account name");
  if (!text_is_acceptable (acc))
    return set_label_error (error, "The otpauth URI's account name is not UTF-8 text");

  *out_issuer = g_steal_pointer (&issuer);
  *out_account = g_strdup (acc);
  return TRUE;
}

/* A decimal parameter. The value is not echoed: it is attacker-chosen text
 * that could be long or hold anything, the secret included. */
static gboolean
parse_uint_param (const char          *value,
                  const char          *name,
                  gint64               min,
                  gint64               max,
                  SignetOtpauthError   code,
                  guint               *out,
                  GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 num = 0;

  if (!g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, &num, &local_error))
    {
      if (g_error_matches (local_error, G_NUMBER_PARSER_ERROR,
                           G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
        g_set_error (error, SIGNET_OTPAUTH_ERROR, code,
                     "The otpauth URI's %s parameter is out of range (%" G_GINT64_FORMAT
                     " to %" G_GINT64_FORMAT ")", name, min, max);
      else
        g_set_error (error, SIGNET_OTPAUTH_ERROR, code,
                     "The otpauth URI's %s parameter is not a number", name);
      return FALSE;
    }
  if (num < min || num > max)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, code,
                   "The otpauth URI's %s parameter is %" G_GINT64_FORMAT ", not between %"
                   G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
                   name, num, min, max);
      return FALSE;
    }
  *out = (guint) num;
  return TRUE;
}

enum {
  PARAM_SECRET,
  PARAM_ISSUER,
  PARAM_ALGORITHM,
  PARAM_DIGITS,
  PARAM_PERIOD,
  N_PARAMS
};

static const char * const param_names[N_PARAMS] = {
  [PARAM_SECRET] = "secret",
  [PARAM_ISSUER] = "issuer",
  [PARAM_ALGORITHM] = "algorithm",
  [PARAM_DIGITS] = "digits",
  [PARAM_PERIOD] = "period",
};

static void
clear_params (char **values)
{
  /* Only the secret needs wiping, but which slot a value landed in is
   * decided by the input: wipe them all. */
  for (guint i = 0; i < N_PARAMS; i++)
    g_clear_pointer (&values[i], signet_secret_string_free);
}

/* Collects the known parameters, each at most once, into values[]. */
static gboolean
collect_params (const char  *query,
                char       **values,
                GError     **error)
{
  GUriParamsIter iter;
  char *attr_raw = NULL;
  char *value_raw = NULL;
  g_autoptr(GError) local_error = NULL;

  g_uri_params_iter_init (&iter, query, -1, "&", G_URI_PARAMS_NONE);
  while (g_uri_params_iter_next (&iter, &attr_raw, &value_raw, &local_error))
    {
      g_autofree char *attr = g_steal_pointer (&attr_raw);
      g_auto(SignetSecretString) value = g_steal_pointer (&value_raw);
      guint i;

      for (i = 0; i < N_PARAMS; i++)
        {
          if (g_ascii_strcasecmp (attr, param_names[i]) == 0)
            break;
        }
      /* Other parameters (image, color, counter…) belong to other apps. */
      if (i == N_PARAMS)
        continue;
      if (values[i] != NULL)
        {
          g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER,
                       "The otpauth URI has more than one %s parameter", param_names[i]);
          return FALSE;
        }
      values[i] = g_steal_pointer (&value);
    }
  if (local_error != NULL)
    {
      /* GLib's message is not passed on: we promise the secret is never
       * in an error, whatever GLib might quote one day. */
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_QUERY,
                           "The otpauth URI's query is not a list of name=value "
                           "pairs with valid %-escapes");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_uri_shape (const char  *scheme,
                 const char  *userinfo,
                 const char  *host,
                 int          port,
                 GError     **error)
{
  if (scheme == NULL)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_NOT_A_URI,
                           "This is not a URI (it has no scheme)");
      return FALSE;
    }
  if (g_ascii_strcasecmp (scheme, "otpauth") != 0)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_WRONG_SCHEME,
                           "This is not an otpauth:// URI");
      return FALSE;
    }
  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_WRONG_TYPE,
                           "The otpauth URI has no type (expected otpauth://totp/…)");
      return FALSE;
    }
  if (userinfo != NULL || port != -1)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_NOT_A_URI,
                           "The otpauth URI has a user name or a port, which Key URIs "
                           "never have");
      return FALSE;
    }
  if (g_ascii_strcasecmp (host, "hotp") == 0)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_WRONG_TYPE,
                           "The otpauth URI is for HOTP (counter-based) codes; only TOTP "
                           "is supported");
      return FALSE;
    }
  if (g_ascii_strcasecmp (host, "totp") != 0)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_WRONG_TYPE,
                           "The otpauth URI has an unknown type; only totp is supported");
      return FALSE;
    }
  return TRUE;
}

SignetOtpauth *
signet_otpauth_parse (const char  *uri,
                      GError     **error)
{
  g_autofree char *scheme = NULL;
  g_autofree char *userinfo = NULL;
  g_autofree char *host = NULL;
  g_autofree char *path = NULL;
  g_autofree char *fragment = NULL;
  g_auto(SignetSecretString) query = NULL;
  g_autofree char *label_issuer = NULL;
  g_autofree char *account = NULL;
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(GError) local_error = NULL;
  char *values[N_PARAMS] = { NULL, };
  SignetOtpauth *ret = NULL;
  const char *issuer;
  SignetTotpAlgorithm algorithm = SIGNET_TOTP_ALGORITHM_SHA1;
  guint digits = SIGNET_TOTP_DIGITS_DEFAULT;
  guint period = SIGNET_TOTP_PERIOD_DEFAULT;
  int port = -1;
  gsize len = 0;

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  while (len <= SIGNET_OTPAUTH_URI_MAX_LEN && uri[len] != '\0')
    len++;
  if (len > SIGNET_OTPAUTH_URI_MAX_LEN)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_NOT_A_URI,
                   "The otpauth URI is longer than %u bytes",
                   (guint) SIGNET_OTPAUTH_URI_MAX_LEN);
      return NULL;
    }
  /* ENCODED: keep the path and query percent-encoded, so that the label's
   * literal ':' can be told from "%3A" and so that "%26" in a value does
   * not split the query. The query holds the secret: we own it and wipe it
   * (GUri's own temporary copies are beyond our reach). */
  if (!g_uri_split (uri, G_URI_FLAGS_ENCODED, &scheme, &userinfo, &host, &port,
                    &path, &query, &fragment, NULL))
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_NOT_A_URI,
                           "This is not a valid URI");
      return NULL;
    }
  if (!check_uri_shape (scheme, userinfo, host, port, error))
    return NULL;

  if (path == NULL || path[0] != '/' || path[1] == '\0')
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_LABEL,
                           "The otpauth URI has no label (issuer and account name)");
      return NULL;
    }
  if (!parse_label (path + 1, &label_issuer, &account, error))
    return NULL;

  if (query == NULL)
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_MISSING_SECRET,
                           "The otpauth URI has no secret parameter");
      return NULL;
    }
  if (!collect_params (query, values, error))
    goto out;

  if (values[PARAM_SECRET] == NULL || values[PARAM_SECRET][0] == '\0')
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_MISSING_SECRET,
                           "The otpauth URI has no secret parameter, or an empty one");
      goto out;
    }
  secret = signet_totp_secret_from_base32 (values[PARAM_SECRET], &local_error);
  if (secret == NULL)
    {
      /* signet_totp_secret_from_base32() never quotes its input. */
      g_set_error (error, SIGNET_OTPAUTH_ERROR,
                   g_error_matches (local_error, SIGNET_TOTP_ERROR,
                                    SIGNET_TOTP_ERROR_INVALID_BASE32)
                   ? SIGNET_OTPAUTH_ERROR_INVALID_SECRET : SIGNET_OTPAUTH_ERROR_FAILED,
                   "The otpauth URI's secret is not valid base32: %s",
                   local_error->message);
      goto out;
    }
  if (!check_secret_length (g_bytes_get_size (secret), error))
    goto out;

  if (values[PARAM_ALGORITHM] != NULL &&
      !signet_totp_algorithm_from_string (values[PARAM_ALGORITHM], &algorithm))
    {
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM,
                           "The otpauth URI's algorithm is not SHA1, SHA256 or SHA512");
      goto out;
    }
  if (values[PARAM_DIGITS] != NULL &&
      !parse_uint_param (values[PARAM_DIGITS], "digits", SIGNET_TOTP_DIGITS_MIN,
                         SIGNET_TOTP_DIGITS_MAX, SIGNET_OTPAUTH_ERROR_INVALID_DIGITS,
                         &digits, error))
    goto out;
  if (values[PARAM_PERIOD] != NULL &&
      !parse_uint_param (values[PARAM_PERIOD], "period", 1, SIGNET_TOTP_PERIOD_MAX,
                         SIGNET_OTPAUTH_ERROR_INVALID_PERIOD, &period, error))
    goto out;

  issuer = label_issuer;
  if (values[PARAM_ISSUER] != NULL)
    {
      if (!text_is_acceptable (values[PARAM_ISSUER]))
        {
          g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_INVALID_ISSUER,
                               "The otpauth URI's issuer parameter is empty or not "
                               "UTF-8 text");
          goto out;
        }
      /* Two different issuers mean a tampered or broken URI: an app would
       * file the key under one or the other. */
      if (label_issuer != NULL && strcmp (label_issuer, values[PARAM_ISSUER]) != 0)
        {
          g_set_error_literal (error, SIGNET_OTPAUTH_ERROR,
                               SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER,
                               "The otpauth URI's issuer parameter differs from the "
                               "issuer in its label");
          goto out;
        }
      issuer = values[PARAM_ISSUER];
    }

  ret = signet_otpauth_new (issuer, account, secret, algorithm, digits, period, error);

out:
  clear_params (values);
  return ret;
}

char *
signet_otpauth_to_uri (SignetOtpauth  *self,
                       GError        **error)
{
  g_auto(SignetSecretString) b32 = NULL;
  g_autofree char *issuer = NULL;
  g_autofree char *account = NULL;
  g_autoptr(GError) local_error = NULL;
  char digits[16];
  char period[16];

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  b32 = signet_totp_secret_to_base32 (self->secret, &local_error);
  if (b32 == NULL)
    {
      g_set_error (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_FAILED,
                   "Could not build the otpauth URI: %s", local_error->message);
      return NULL;
    }
  /* Everything but RFC 3986's unreserved characters is escaped, ':' too,
   * so that the label's one literal ':' is the separator; non-ASCII is
   * escaped as UTF-8. */
  account = g_uri_escape_string (self->account, NULL, FALSE);
  g_snprintf (digits, sizeof digits, "%u", self->digits);
  g_snprintf (period, sizeof period, "%u", self->period);

  /* g_strconcat() allocates once: a growing GString would leave copies of
   * the secret behind in freed memory. */
  if (self->issuer != NULL)
    {
      issuer = g_uri_escape_string (self->issuer, NULL, FALSE);
      return g_strconcat ("otpauth://totp/", issuer, ":", account,
                          "?secret=", b32,
                          "&issuer=", issuer,
                          "&algorithm=", signet_totp_algorithm_to_string (self->algorithm),
                          "&digits=", digits,
                          "&period=", period,
                          NULL);
    }
  return g_strconcat ("otpauth://totp/", account,
                      "?secret=", b32,
                      "&algorithm=", signet_totp_algorithm_to_string (self->algorithm),
                      "&digits=", digits,
                      "&period=", period,
                      NULL);
}

SignetOtpauth *
signet_otpauth_ref (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_atomic_rc_box_acquire (self);
}

void
signet_otpauth_unref (SignetOtpauth *self)
{
  g_return_if_fail (self != NULL);

  g_atomic_rc_box_release_full (self, otpauth_clear);
}

const char *
signet_otpauth_get_issuer (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->issuer;
}

const char *
signet_otpauth_get_account (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->account;
}

GBytes *
signet_otpauth_get_secret (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->secret;
}

SignetTotpAlgorithm
signet_otpauth_get_algorithm (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, SIGNET_TOTP_ALGORITHM_SHA1);

  return self->algorithm;
}

guint
signet_otpauth_get_digits (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->digits;
}

guint
signet_otpauth_get_period (SignetOtpauth *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->period;
}

GBytes *
signet_otpauth_secret_new_random (gsize    length,
                                  GError **error)
{
  guint8 *buf;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length == 0)
    length = SIGNET_OTPAUTH_SECRET_DEFAULT_LEN;
  if (!check_secret_length (length, error))
    return NULL;

  buf = g_malloc (length);
  if (RAND_bytes (buf, (int) length) != 1)
    {
      signet_secret_free (buf, length);
      g_set_error_literal (error, SIGNET_OTPAUTH_ERROR, SIGNET_OTPAUTH_ERROR_FAILED,
                           "The random number generator failed");
      return NULL;
    }
  return signet_secret_bytes_new_take (buf, length);
}
