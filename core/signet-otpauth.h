/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-otpauth.h: otpauth://totp/ Key URIs (the Google Authenticator
 * "Key Uri Format"), as printed by `signetd user add` for a technician's
 * authenticator app:
 *
 *   otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER
 *          &algorithm=SHA1&digits=6&period=30
 *
 * A SignetOtpauth is immutable once made, and always valid: the
 * constructor and the parser apply the same checks. Its secret lives in a
 * self-wiping GBytes; a URI string holds the secret too and must be
 * treated as one. Error messages never contain the secret.
 */
#pragma once

#include <glib-object.h>

#include "signet-totp.h"

G_BEGIN_DECLS

#define SIGNET_OTPAUTH_ERROR (signet_otpauth_error_quark ())
GQuark signet_otpauth_error_quark (void);

/**
 * SignetOtpauthError:
 * @SIGNET_OTPAUTH_ERROR_FAILED: an internal failure (random generator, liboath)
 * @SIGNET_OTPAUTH_ERROR_NOT_A_URI: not a URI at all, too long, or with parts
 *   (user, port) an otpauth URI never has
 * @SIGNET_OTPAUTH_ERROR_WRONG_SCHEME: a URI whose scheme is not `otpauth`
 * @SIGNET_OTPAUTH_ERROR_WRONG_TYPE: `otpauth://hotp/` or another type than `totp`
 * @SIGNET_OTPAUTH_ERROR_INVALID_LABEL: the label is missing, or its account
 *   is empty, or it is not valid UTF-8 text
 * @SIGNET_OTPAUTH_ERROR_INVALID_QUERY: the query is not a list of
 *   `name=value` pairs
 * @SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER: a parameter given twice
 * @SIGNET_OTPAUTH_ERROR_MISSING_SECRET: no (or an empty) `secret`
 * @SIGNET_OTPAUTH_ERROR_INVALID_SECRET: `secret` is not valid base32
 * @SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT: fewer than 80 bits of key
 * @SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG: more than %SIGNET_TOTP_SECRET_MAX_LEN bytes
 * @SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM: `algorithm` not SHA1, SHA256 or SHA512
 * @SIGNET_OTPAUTH_ERROR_INVALID_DIGITS: `digits` not a number, or not 6–8
 * @SIGNET_OTPAUTH_ERROR_INVALID_PERIOD: `period` not a number, 0, negative
 *   or above %SIGNET_TOTP_PERIOD_MAX
 * @SIGNET_OTPAUTH_ERROR_INVALID_ISSUER: an empty or non-text issuer
 * @SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER: the `issuer` parameter and the
 *   label's issuer prefix differ
 */
typedef enum {
  SIGNET_OTPAUTH_ERROR_FAILED,
  SIGNET_OTPAUTH_ERROR_NOT_A_URI,
  SIGNET_OTPAUTH_ERROR_WRONG_SCHEME,
  SIGNET_OTPAUTH_ERROR_WRONG_TYPE,
  SIGNET_OTPAUTH_ERROR_INVALID_LABEL,
  SIGNET_OTPAUTH_ERROR_INVALID_QUERY,
  SIGNET_OTPAUTH_ERROR_DUPLICATE_PARAMETER,
  SIGNET_OTPAUTH_ERROR_MISSING_SECRET,
  SIGNET_OTPAUTH_ERROR_INVALID_SECRET,
  SIGNET_OTPAUTH_ERROR_SECRET_TOO_SHORT,
  SIGNET_OTPAUTH_ERROR_SECRET_TOO_LONG,
  SIGNET_OTPAUTH_ERROR_UNKNOWN_ALGORITHM,
  SIGNET_OTPAUTH_ERROR_INVALID_DIGITS,
  SIGNET_OTPAUTH_ERROR_INVALID_PERIOD,
  SIGNET_OTPAUTH_ERROR_INVALID_ISSUER,
  SIGNET_OTPAUTH_ERROR_CONFLICTING_ISSUER,
} SignetOtpauthError;

/* 160 bits, the length RFC 4226 recommends and authenticator apps expect. */
#define SIGNET_OTPAUTH_SECRET_DEFAULT_LEN 20
/* A QR code holds at most ~4 kB; anything longer is not a Key URI. */
#define SIGNET_OTPAUTH_URI_MAX_LEN        4096

typedef struct _SignetOtpauth SignetOtpauth;

#define SIGNET_TYPE_OTPAUTH (signet_otpauth_get_type ())
GType                signet_otpauth_get_type       (void) G_GNUC_CONST;

/**
 * signet_otpauth_new:
 * @issuer: (nullable): the service or organisation, UTF-8, not empty
 * @account: the account name (e.g. the user name), UTF-8, not empty
 * @secret: the key, %SIGNET_TOTP_SECRET_MIN_LEN to
 *   %SIGNET_TOTP_SECRET_MAX_LEN bytes; it is copied into a self-wiping buffer
 * @algorithm: the HMAC hash
 * @digits: 6, 7 or 8
 * @period: the time step in seconds, 1 … %SIGNET_TOTP_PERIOD_MAX
 * @error: return location for a #SIGNET_OTPAUTH_ERROR
 *
 * Text may contain spaces, ':' and any Unicode except controls, line
 * separators and bidirectional overrides. An account may not begin with a
 * space (the Key URI format lets apps strip spaces after the ':') and,
 * without an issuer, may not contain a ':' (it would read as an issuer
 * prefix).
 *
 * Returns: (transfer full) (nullable): a new #SignetOtpauth
 */
SignetOtpauth       *signet_otpauth_new            (const char          *issuer,
                                                    const char          *account,
                                                    GBytes              *secret,
                                                    SignetTotpAlgorithm  algorithm,
                                                    guint                digits,
                                                    guint                period,
                                                    GError             **error);

/**
 * signet_otpauth_parse:
 * @uri: an `otpauth://totp/` URI
 * @error: return location for a #SIGNET_OTPAUTH_ERROR
 *
 * Missing parameters take the format's defaults: SHA1, 6 digits, 30 s.
 * Unknown parameters (an app's `image`, say) are ignored; known ones may
 * appear once. Percent-encoding follows RFC 3986 (a '+' is a '+').
 *
 * Returns: (transfer full) (nullable): the parsed URI
 */
SignetOtpauth       *signet_otpauth_parse          (const char          *uri,
                                                    GError             **error);

/**
 * signet_otpauth_to_uri:
 * @self: a #SignetOtpauth
 * @error: return location for a #SIGNET_OTPAUTH_ERROR
 *
 * Builds `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…
 * &digits=…&period=…` with every parameter explicit, the secret in
 * unpadded upper-case base32 and the text percent-encoded as UTF-8.
 *
 * Returns: (transfer full) (nullable): the URI. It contains the secret:
 *   free it with signet_secret_string_free() or hold it in
 *   g_auto(SignetSecretString).
 */
char                *signet_otpauth_to_uri         (SignetOtpauth       *self,
                                                    GError             **error);

SignetOtpauth       *signet_otpauth_ref            (SignetOtpauth       *self);
void                 signet_otpauth_unref          (SignetOtpauth       *self);

/* (nullable): NULL when the URI names no issuer. */
const char          *signet_otpauth_get_issuer     (SignetOtpauth       *self);
const char          *signet_otpauth_get_account    (SignetOtpauth       *self);
/* (transfer none): the self-wiping key; g_bytes_ref() it to keep it. */
GBytes              *signet_otpauth_get_secret     (SignetOtpauth       *self);
SignetTotpAlgorithm  signet_otpauth_get_algorithm  (SignetOtpauth       *self);
guint                signet_otpauth_get_digits     (SignetOtpauth       *self);
guint                signet_otpauth_get_period     (SignetOtpauth       *self);

/**
 * signet_otpauth_secret_new_random:
 * @length: in bytes, or 0 for %SIGNET_OTPAUTH_SECRET_DEFAULT_LEN
 * @error: return location for a #SIGNET_OTPAUTH_ERROR
 *
 * A fresh key from OpenSSL's CSPRNG (RAND_bytes), for enrolment.
 *
 * Returns: (transfer full) (nullable): the key, in a self-wiping GBytes
 */
GBytes              *signet_otpauth_secret_new_random (gsize             length,
                                                       GError          **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetOtpauth, signet_otpauth_unref)

G_END_DECLS
