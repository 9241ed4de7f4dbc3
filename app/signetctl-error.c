/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <gio/gio.h>

#include "signet-device-session.h"
#include "signet-eventlog.h"
#include "signet-service-error.h"
#include "signet-session.h"
#include "signet-transport.h"
#include "signetctl-error.h"

typedef struct {
  int code;
  const char *name;
  int exit_code;
} CodeInfo;

#define END { -1, NULL, SIGNETCTL_EXIT_FAILURE }

static const CodeInfo ctl_codes[] = {
  { SIGNETCTL_ERROR_FAILED, "failed", SIGNETCTL_EXIT_FAILURE },
  { SIGNETCTL_ERROR_USAGE, "usage", SIGNETCTL_EXIT_USAGE },
  { SIGNETCTL_ERROR_NOT_SIGNED_IN, "not-signed-in", SIGNETCTL_EXIT_AUTH },
  { SIGNETCTL_ERROR_ALREADY_SIGNED_IN, "already-signed-in", SIGNETCTL_EXIT_FAILURE },
  { SIGNETCTL_ERROR_UNKNOWN_DEVICE, "unknown-device", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNETCTL_ERROR_DEVICE_UNREACHABLE, "device-unreachable", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNETCTL_ERROR_AGENT, "agent", SIGNETCTL_EXIT_FAILURE },
  { SIGNETCTL_ERROR_LOG_INVALID, "log-invalid", SIGNETCTL_EXIT_LOG_INVALID },
  { SIGNETCTL_ERROR_LOG_UNCHECKED, "log-unchecked", SIGNETCTL_EXIT_LOG_UNCHECKED },
  { SIGNETCTL_ERROR_UPLOAD_QUEUED, "upload-queued", SIGNETCTL_EXIT_UNREACHABLE },
  END
};

static const CodeInfo session_codes[] = {
  { SIGNET_SESSION_ERROR_NOT_SIGNED_IN, "not-signed-in", SIGNETCTL_EXIT_AUTH },
  { SIGNET_SESSION_ERROR_EXPIRED, "expired", SIGNETCTL_EXIT_AUTH },
  { SIGNET_SESSION_ERROR_BUSY, "busy", SIGNETCTL_EXIT_FAILURE },
  END
};

static const CodeInfo service_codes[] = {
  { SIGNET_SERVICE_ERROR_FAILED, "failed", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_INVALID_REQUEST, "invalid-request", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS, "invalid-credentials", SIGNETCTL_EXIT_AUTH },
  { SIGNET_SERVICE_ERROR_UNAUTHORIZED, "unauthorized", SIGNETCTL_EXIT_AUTH },
  { SIGNET_SERVICE_ERROR_FORBIDDEN, "forbidden", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED, "step-up-required", SIGNETCTL_EXIT_STEP_UP },
  { SIGNET_SERVICE_ERROR_NOT_FOUND, "not-found", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_METHOD_NOT_ALLOWED, "method-not-allowed", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_CONFLICT, "conflict", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE, "payload-too-large", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
    SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_LOCKED, "locked", SIGNETCTL_EXIT_AUTH },
  { SIGNET_SERVICE_ERROR_RATE_LIMITED, "rate-limited", SIGNETCTL_EXIT_AUTH },
  { SIGNET_SERVICE_ERROR_SERVER_ERROR, "server-error", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_SERVICE_ERROR_UNREACHABLE, "unreachable", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_SERVICE_ERROR_TLS, "tls", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH, "certificate-mismatch",
    SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_SERVICE_ERROR_TIMEOUT, "timeout", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_SERVICE_ERROR_CANCELLED, "cancelled", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_SERVICE_ERROR_BAD_RESPONSE, "bad-response", SIGNETCTL_EXIT_FAILURE },
  END
};

static const CodeInfo device_codes[] = {
  { SIGNET_DEVICE_ERROR_MALFORMED, "malformed", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_UNSUPPORTED, "unsupported", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_TOO_LARGE, "too-large", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_BAD_STATE, "bad-state", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_TOKEN_MALFORMED, "token-malformed", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_TOKEN_SIGNATURE, "token-signature", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_TOKEN_EXPIRED, "token-expired", SIGNETCTL_EXIT_AUTH },
  { SIGNET_DEVICE_ERROR_TOKEN_NOT_YET_VALID, "token-not-yet-valid", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_TOKEN_AUDIENCE, "token-audience", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_TOKEN_REVOKED, "token-revoked", SIGNETCTL_EXIT_AUTH },
  { SIGNET_DEVICE_ERROR_COMMAND_SIGNATURE, "command-signature", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_WRONG_TOKEN, "wrong-token", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_WRONG_DEVICE, "wrong-device", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_WRONG_NONCE, "wrong-nonce", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_REPLAY, "replay", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_SCOPE, "scope", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_VERSION_ROLLBACK, "version-rollback", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_SCHEMA, "schema", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_STEP_UP, "step-up", SIGNETCTL_EXIT_STEP_UP },
  { SIGNET_DEVICE_ERROR_DIGEST, "digest", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_SEAL, "seal", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_HEALTH, "health", SIGNETCTL_EXIT_DEVICE_FAILED },
  { SIGNET_DEVICE_ERROR_STORAGE, "storage", SIGNETCTL_EXIT_DEVICE_FAILED },
  { SIGNET_DEVICE_ERROR_REVOCATION_STALE, "revocation-stale", SIGNETCTL_EXIT_REFUSED },
  { SIGNET_DEVICE_ERROR_BULK_OFFSET, "bulk-offset", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_NO_TRANSFER, "no-transfer", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_FAILED, "failed", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_PROTOCOL, "protocol", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_TIMEOUT, "timeout", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_DEVICE_ERROR_DISCONNECTED, "disconnected", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_DEVICE_ERROR_TRANSPORT, "transport", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_DEVICE_ERROR_CANCELLED, "cancelled", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_NOT_READY, "not-ready", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_UNTRUSTED, "untrusted", SIGNETCTL_EXIT_UNTRUSTED },
  { SIGNET_DEVICE_ERROR_REVOKED, "revoked", SIGNETCTL_EXIT_UNTRUSTED },
  { SIGNET_DEVICE_ERROR_BAD_EVIDENCE, "bad-evidence", SIGNETCTL_EXIT_UNTRUSTED },
  { SIGNET_DEVICE_ERROR_BAD_RECEIPT, "bad-receipt", SIGNETCTL_EXIT_UNTRUSTED },
  /* checked here before anything is sent: the value typed is to fix */
  { SIGNET_DEVICE_ERROR_INVALID_VALUE, "invalid-value", SIGNETCTL_EXIT_USAGE },
  { SIGNET_DEVICE_ERROR_BAD_PROFILE, "bad-profile", SIGNETCTL_EXIT_REFUSED },
  /* the service gave something unusable (its refusals keep their own
   * domain and code, mapped above) */
  { SIGNET_DEVICE_ERROR_SERVICE, "service", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_DEVICE_ERROR_EVENT_LOG, "event-log", SIGNETCTL_EXIT_FAILURE },
  END
};

static const CodeInfo eventlog_codes[] = {
  { SIGNET_EVENT_LOG_ERROR_FAILED, "failed", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_EVENT_LOG_ERROR_IO, "io", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_EVENT_LOG_ERROR_INVALID, "invalid", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_EVENT_LOG_ERROR_TOO_LARGE, "too-large", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_EVENT_LOG_ERROR_CLOSED, "closed", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_EVENT_LOG_ERROR_BROKEN, "broken", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_EVENT_LOG_ERROR_MALFORMED, "malformed", SIGNETCTL_EXIT_LOG_INVALID },
  { SIGNET_EVENT_LOG_ERROR_REJECTED, "rejected", SIGNETCTL_EXIT_LOG_INVALID },
  END
};

static const CodeInfo transport_codes[] = {
  { SIGNET_TRANSPORT_ERROR_CLOSED, "closed", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_TRANSPORT_ERROR_DISCONNECTED, "disconnected", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_TRANSPORT_ERROR_TIMEOUT, "timeout", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_TRANSPORT_ERROR_TOO_LARGE, "too-large", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_TRANSPORT_ERROR_IO, "io", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_TRANSPORT_ERROR_CANCELLED, "cancelled", SIGNETCTL_EXIT_FAILURE },
  { SIGNET_TRANSPORT_ERROR_NOT_FOUND, "not-found", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_TRANSPORT_ERROR_PERMISSION_DENIED, "permission-denied", SIGNETCTL_EXIT_UNREACHABLE },
  { SIGNET_TRANSPORT_ERROR_BUSY, "busy", SIGNETCTL_EXIT_UNREACHABLE },
  END
};

static const CodeInfo *
lookup (const GError *error)
{
  const CodeInfo *table = NULL;

  if (error->domain == SIGNETCTL_ERROR)
    table = ctl_codes;
  else if (error->domain == SIGNET_SESSION_ERROR)
    table = session_codes;
  else if (error->domain == SIGNET_SERVICE_ERROR)
    table = service_codes;
  else if (error->domain == SIGNET_DEVICE_ERROR)
    table = device_codes;
  else if (error->domain == SIGNET_EVENT_LOG_ERROR)
    table = eventlog_codes;
  else if (error->domain == SIGNET_TRANSPORT_ERROR)
    table = transport_codes;
  for (; table != NULL && table->name != NULL; table++)
    if (table->code == error->code)
      return table;
  return NULL;
}

G_DEFINE_QUARK (signetctl-error-quark, signetctl_error)

static const GDBusErrorEntry ctl_dbus_errors[] = {
  { SIGNETCTL_ERROR_FAILED, "org.signet.Agent1.Error.Failed" },
  { SIGNETCTL_ERROR_USAGE, "org.signet.Agent1.Error.Usage" },
  { SIGNETCTL_ERROR_NOT_SIGNED_IN, "org.signet.Agent1.Error.NotSignedIn" },
  { SIGNETCTL_ERROR_ALREADY_SIGNED_IN, "org.signet.Agent1.Error.AlreadySignedIn" },
  { SIGNETCTL_ERROR_UNKNOWN_DEVICE, "org.signet.Agent1.Error.UnknownDevice" },
  { SIGNETCTL_ERROR_DEVICE_UNREACHABLE, "org.signet.Agent1.Error.DeviceUnreachable" },
  { SIGNETCTL_ERROR_AGENT, "org.signet.Agent1.Error.Agent" },
  { SIGNETCTL_ERROR_LOG_INVALID, "org.signet.Agent1.Error.LogInvalid" },
  { SIGNETCTL_ERROR_LOG_UNCHECKED, "org.signet.Agent1.Error.LogUnchecked" },
  { SIGNETCTL_ERROR_UPLOAD_QUEUED, "org.signet.Agent1.Error.UploadQueued" },
};

void
signetctl_error_init (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      static volatile gsize dbus_quark = 0;

      /* The library's domains travel as GDBus's "unmapped" errors, named
       * after their quark: creating the quarks here is what lets the
       * client turn them back into the same domain and code. */
      (void) signet_session_error_quark ();
      (void) signet_service_error_quark ();
      (void) signet_device_error_quark ();
      (void) signet_event_log_error_quark ();
      (void) signet_transport_error_quark ();
      g_dbus_error_register_error_domain ("signetctl-error-quark", &dbus_quark, ctl_dbus_errors,
                                          G_N_ELEMENTS (ctl_dbus_errors));
      g_once_init_leave (&done, 1);
    }
}

int
signetctl_error_exit_code (const GError *error)
{
  const CodeInfo *info;

  g_return_val_if_fail (error != NULL, SIGNETCTL_EXIT_FAILURE);
  info = lookup (error);
  if (info != NULL)
    return info->exit_code;
  if (error->domain == G_OPTION_ERROR)
    return SIGNETCTL_EXIT_USAGE;
  return SIGNETCTL_EXIT_FAILURE;
}

const char *
signetctl_error_name (const GError *error)
{
  const CodeInfo *info = lookup (error);

  if (info != NULL)
    return info->name;
  if (error->domain == G_OPTION_ERROR)
    return "usage";
  return "unknown";
}

void
signetctl_error_strip (GError *error)
{
  if (error != NULL && g_dbus_error_is_remote_error (error))
    g_dbus_error_strip_remote_error (error);
}

gboolean
signetctl_error_is_step_up (const GError *error)
{
  return error != NULL &&
         ((error->domain == SIGNET_SERVICE_ERROR &&
           error->code == SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED) ||
          (error->domain == SIGNET_DEVICE_ERROR && error->code == SIGNET_DEVICE_ERROR_STEP_UP));
}
