/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-service-error.h: the errors of the token service client
 * (signet-service-client.h), one code per API error of docs/api.md plus
 * the transport's own, in one GError domain.
 *
 * The domain is an extended error domain (GLib 2.68): besides its code
 * and message, an error carries the HTTP status, the API's `error` string
 * and the server's Retry-After, read with the getters below, so that a
 * caller can count down a back-off without parsing the message.
 *
 * Messages are written for a technician ("Too many attempts: try again in
 * 42 s"), never quote a password, code, token or key, and quote the
 * service's own `message` only where it names what to fix (a member, a
 * profile, a log record) and only after it was cleaned (printable UTF-8,
 * bounded length). docs/client.md has the whole table.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIGNET_SERVICE_ERROR (signet_service_error_quark ())
GQuark signet_service_error_quark (void);

/**
 * SignetServiceError:
 * @SIGNET_SERVICE_ERROR_FAILED: a local failure (the crypto library, a
 *   key without its private part): not the service's or the network's
 * @SIGNET_SERVICE_ERROR_INVALID_REQUEST: 400 `invalid_request`, or a
 *   request the client refused to send (the message says why)
 * @SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS: 401 `invalid_credentials`:
 *   wrong user name, password or code (the service never says which)
 * @SIGNET_SERVICE_ERROR_UNAUTHORIZED: 401 `unauthorized`: the token is
 *   expired, revoked or past the session maximum, or the proof of
 *   possession was refused; also a session that was signed out here
 * @SIGNET_SERVICE_ERROR_FORBIDDEN: 403 `forbidden`: the role or scope does
 *   not allow it, an untrusted or revoked device
 * @SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED: 403 `forbidden` whose message
 *   says a step-up is required: ask for a new code (step_up) and retry
 * @SIGNET_SERVICE_ERROR_NOT_FOUND: 404 `not_found`
 * @SIGNET_SERVICE_ERROR_METHOD_NOT_ALLOWED: 405 `method_not_allowed` (a
 *   client and service of different versions)
 * @SIGNET_SERVICE_ERROR_CONFLICT: 409 `conflict` (a log segment that does
 *   not continue the stored log)
 * @SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE: 413 `payload_too_large`, or a
 *   body the client refused to send for its size
 * @SIGNET_SERVICE_ERROR_UNSUPPORTED_MEDIA_TYPE: 415 `unsupported_media_type`
 * @SIGNET_SERVICE_ERROR_LOCKED: 423 `locked`: the account is locked or
 *   disabled; an administrator unlocks it
 * @SIGNET_SERVICE_ERROR_RATE_LIMITED: 429 `rate_limited`; the Retry-After
 *   seconds are in signet_service_error_get_retry_after()
 * @SIGNET_SERVICE_ERROR_SERVER_ERROR: 500 `internal_error` or any other 5xx
 * @SIGNET_SERVICE_ERROR_UNREACHABLE: no connection: the name does not
 *   resolve, the connection is refused or breaks off, the proxy refuses
 * @SIGNET_SERVICE_ERROR_TLS: the TLS handshake failed for another reason
 *   than the certificate (protocol version, cipher)
 * @SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH: the service's certificate
 *   does not chain to the configured CA, is not for its host name, or its
 *   key does not match the configured pin
 * @SIGNET_SERVICE_ERROR_TIMEOUT: no (complete) answer in time
 * @SIGNET_SERVICE_ERROR_CANCELLED: the caller cancelled the call
 * @SIGNET_SERVICE_ERROR_BAD_RESPONSE: an answer that is not what the API
 *   says: not JSON, a missing or mistyped member, too large, an unexpected
 *   status, a token not bound to the session's key
 */
typedef enum {
  SIGNET_SERVICE_ERROR_FAILED,
  SIGNET_SERVICE_ERROR_INVALID_REQUEST,
  SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS,
  SIGNET_SERVICE_ERROR_UNAUTHORIZED,
  SIGNET_SERVICE_ERROR_FORBIDDEN,
  SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED,
  SIGNET_SERVICE_ERROR_NOT_FOUND,
  SIGNET_SERVICE_ERROR_METHOD_NOT_ALLOWED,
  SIGNET_SERVICE_ERROR_CONFLICT,
  SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE,
  SIGNET_SERVICE_ERROR_UNSUPPORTED_MEDIA_TYPE,
  SIGNET_SERVICE_ERROR_LOCKED,
  SIGNET_SERVICE_ERROR_RATE_LIMITED,
  SIGNET_SERVICE_ERROR_SERVER_ERROR,
  SIGNET_SERVICE_ERROR_UNREACHABLE,
  SIGNET_SERVICE_ERROR_TLS,
  SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH,
  SIGNET_SERVICE_ERROR_TIMEOUT,
  SIGNET_SERVICE_ERROR_CANCELLED,
  SIGNET_SERVICE_ERROR_BAD_RESPONSE,
} SignetServiceError;

/* The longest part of the service's `message` quoted in an error (bytes). */
#define SIGNET_SERVICE_MESSAGE_MAX 240

/* The HTTP status of the answer the error comes from; 0 when there was
 * none (transport and local errors). error must be of this domain. */
guint        signet_service_error_get_status      (const GError *error);

/* The seconds of the answer's Retry-After header (delay-seconds form), or
 * -1 when it had none. Set with RATE_LIMITED (and, when a server sends
 * one, with LOCKED and SERVER_ERROR). */
gint64       signet_service_error_get_retry_after (const GError *error);

/* The `error` member of the answer ("rate_limited"), or NULL.
 * Returns: (transfer none) (nullable) */
const char  *signet_service_error_get_api_error   (const GError *error);

/* TRUE for the errors after which the same call may work later without
 * the user changing anything: UNREACHABLE, TIMEOUT, SERVER_ERROR and
 * RATE_LIMITED. (Whether the client itself retries also depends on the
 * call: see docs/client.md.) */
gboolean     signet_service_error_is_transient    (const GError *error);

/* Map an API answer to an error: status and the `error` member (NULL if
 * the body was not an API error object), the cleaned-up `message`
 * (NULL if none) and Retry-After (-1: none). Used by the client; public
 * so that its table is tested on its own. */
void         signet_service_error_set_from_api    (GError      **error,
                                                   guint         status,
                                                   const char   *api_error,
                                                   const char   *message,
                                                   gint64        retry_after);

/* Set an error with HTTP details attached (status 0: none). */
void         signet_service_error_set             (GError      **error,
                                                   SignetServiceError code,
                                                   guint         status,
                                                   const char   *api_error,
                                                   gint64        retry_after,
                                                   const char   *format,
                                                   ...) G_GNUC_PRINTF (6, 7);

G_END_DECLS
