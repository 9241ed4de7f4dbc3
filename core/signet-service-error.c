/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-service-error.h"

/* What an error of this domain carries besides code and message. */
typedef struct {
  guint status;
  gint64 retry_after;
  char *api_error;
} SignetServiceErrorPrivate;

static void
signet_service_error_private_init (SignetServiceErrorPrivate *priv)
{
  priv->status = 0;
  priv->retry_after = -1;
  priv->api_error = NULL;
}

static void
signet_service_error_private_copy (const SignetServiceErrorPrivate *src,
                                   SignetServiceErrorPrivate       *dest)
{
  dest->status = src->status;
  dest->retry_after = src->retry_after;
  dest->api_error = g_strdup (src->api_error);
}

static void
signet_service_error_private_clear (SignetServiceErrorPrivate *priv)
{
  g_clear_pointer (&priv->api_error, g_free);
}

/* GLib's macro finds the private part by stepping back from the GError
 * through a guint8 pointer, which it has aligned; clang's -Wcast-align
 * cannot know that. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-align"
G_DEFINE_EXTENDED_ERROR (SignetServiceError, signet_service_error)
#pragma GCC diagnostic pop

/* The API's `error` strings (docs/api.md, "Conventions"). */
static const struct {
  const char *name;
  guint status;
  SignetServiceError code;
} api_errors[] = {
  { "invalid_request", 400, SIGNET_SERVICE_ERROR_INVALID_REQUEST },
  { "invalid_credentials", 401, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS },
  { "unauthorized", 401, SIGNET_SERVICE_ERROR_UNAUTHORIZED },
  { "forbidden", 403, SIGNET_SERVICE_ERROR_FORBIDDEN },
  { "step_up_required", 403, SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED },
  { "not_found", 404, SIGNET_SERVICE_ERROR_NOT_FOUND },
  { "method_not_allowed", 405, SIGNET_SERVICE_ERROR_METHOD_NOT_ALLOWED },
  { "conflict", 409, SIGNET_SERVICE_ERROR_CONFLICT },
  { "payload_too_large", 413, SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE },
  { "unsupported_media_type", 415, SIGNET_SERVICE_ERROR_UNSUPPORTED_MEDIA_TYPE },
  { "locked", 423, SIGNET_SERVICE_ERROR_LOCKED },
  { "rate_limited", 429, SIGNET_SERVICE_ERROR_RATE_LIMITED },
  { "internal_error", 500, SIGNET_SERVICE_ERROR_SERVER_ERROR },
};

void
signet_service_error_set (GError             **error,
                          SignetServiceError   code,
                          guint                status,
                          const char          *api_error,
                          gint64               retry_after,
                          const char          *format,
                          ...)
{
  g_autofree char *message = NULL;
  GError *e;
  SignetServiceErrorPrivate *priv;
  va_list ap;

  if (error == NULL)
    return;
  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  e = g_error_new_literal (SIGNET_SERVICE_ERROR, code, message);
  priv = signet_service_error_get_private (e);
  priv->status = status;
  priv->retry_after = retry_after;
  priv->api_error = g_strdup (api_error);
  g_propagate_error (error, e);
}

guint
signet_service_error_get_status (const GError *error)
{
  g_return_val_if_fail (error != NULL && error->domain == SIGNET_SERVICE_ERROR, 0);
  return signet_service_error_get_private (error)->status;
}

gint64
signet_service_error_get_retry_after (const GError *error)
{
  g_return_val_if_fail (error != NULL && error->domain == SIGNET_SERVICE_ERROR, -1);
  return signet_service_error_get_private (error)->retry_after;
}

const char *
signet_service_error_get_api_error (const GError *error)
{
  g_return_val_if_fail (error != NULL && error->domain == SIGNET_SERVICE_ERROR, NULL);
  return signet_service_error_get_private (error)->api_error;
}

gboolean
signet_service_error_is_transient (const GError *error)
{
  if (error == NULL || error->domain != SIGNET_SERVICE_ERROR)
    return FALSE;
  switch ((SignetServiceError) error->code)
    {
    case SIGNET_SERVICE_ERROR_UNREACHABLE:
    case SIGNET_SERVICE_ERROR_TIMEOUT:
    case SIGNET_SERVICE_ERROR_SERVER_ERROR:
    case SIGNET_SERVICE_ERROR_RATE_LIMITED:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The service's message as it may appear inside ours: valid UTF-8, no
 * control characters (a message must not forge lines in a log or a
 * terminal), at most SIGNET_SERVICE_MESSAGE_MAX bytes. NULL for none. */
static char *
clean_message (const char *message)
{
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;

  if (message == NULL)
    return NULL;
  valid = g_utf8_make_valid (message, -1);
  out = g_string_new (NULL);
  for (p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);

      if (out->len + (gsize) (next - p) > SIGNET_SERVICE_MESSAGE_MAX)
        {
          g_string_append (out, "…");
          break;
        }
      if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        g_string_append_c (out, ' ');
      else
        g_string_append_len (out, p, next - p);
    }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static SignetServiceError
code_from_status (guint status)
{
  for (gsize i = 0; i < G_N_ELEMENTS (api_errors); i++)
    {
      /* 401 without a known code: treat as unauthorized (the token). */
      if (api_errors[i].status == status &&
          api_errors[i].code != SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS)
        return api_errors[i].code;
    }
  if (status >= 500 && status <= 599)
    return SIGNET_SERVICE_ERROR_SERVER_ERROR;
  return SIGNET_SERVICE_ERROR_BAD_RESPONSE;
}

void
signet_service_error_set_from_api (GError     **error,
                                   guint        status,
                                   const char  *api_error,
                                   const char  *message,
                                   gint64       retry_after)
{
  g_autofree char *said = clean_message (message);
  g_autofree char *detail = NULL;
  SignetServiceError code = SIGNET_SERVICE_ERROR_BAD_RESPONSE;
  gboolean known = FALSE;

  /* Clients act on `error`, not on the status (docs/api.md); the status
   * decides only for an answer without a known `error` (a proxy's page). */
  for (gsize i = 0; api_error != NULL && i < G_N_ELEMENTS (api_errors); i++)
    if (g_str_equal (api_errors[i].name, api_error))
      {
        code = api_errors[i].code;
        known = TRUE;
      }
  if (!known)
    code = code_from_status (status);
  detail = said != NULL ? g_strdup_printf (": %s", said) : g_strdup_printf (" (HTTP %u)", status);

  switch (code)
    {
    case SIGNET_SERVICE_ERROR_INVALID_REQUEST:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The service refused the request%s", detail);
      break;
    case SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS:
      /* The service never says which one was wrong, nor do we. */
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "Wrong user name, password or code");
      break;
    case SIGNET_SERVICE_ERROR_UNAUTHORIZED:
      /* The reason is in the service's log only (docs/api.md). */
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The sign-in has expired or was revoked, or the service refused "
                                "its proof: sign in again");
      break;
    case SIGNET_SERVICE_ERROR_FORBIDDEN:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The service does not allow this%s", detail);
      break;
    case SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "This operation needs a recent sign-in: confirm with a new code "
                                "from your authenticator (step-up)");
      break;
    case SIGNET_SERVICE_ERROR_NOT_FOUND:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "Not found on the service%s", detail);
      break;
    case SIGNET_SERVICE_ERROR_METHOD_NOT_ALLOWED:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The service does not accept this request (HTTP %u): the tool and "
                                "the service may be of different versions", status);
      break;
    case SIGNET_SERVICE_ERROR_CONFLICT:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The service refused it as a conflict with what it holds%s",
                                detail);
      break;
    case SIGNET_SERVICE_ERROR_PAYLOAD_TOO_LARGE:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "Too large for the service%s", detail);
      break;
    case SIGNET_SERVICE_ERROR_UNSUPPORTED_MEDIA_TYPE:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The service refused the content type%s", detail);
      break;
    case SIGNET_SERVICE_ERROR_LOCKED:
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The account is locked or disabled: ask an administrator%s%s%s",
                                said != NULL ? " (the service says: " : "",
                                said != NULL ? said : "", said != NULL ? ")" : "");
      break;
    case SIGNET_SERVICE_ERROR_RATE_LIMITED:
      if (retry_after >= 0)
        signet_service_error_set (error, code, status, api_error, retry_after,
                                  "Too many attempts: try again in %" G_GINT64_FORMAT " s",
                                  retry_after);
      else
        signet_service_error_set (error, code, status, api_error, retry_after,
                                  "Too many attempts: try again later");
      break;
    case SIGNET_SERVICE_ERROR_SERVER_ERROR:
      /* A 500 carries no detail by design; a gateway's page means nothing
       * to a technician. */
      signet_service_error_set (error, code, status, api_error, retry_after,
                                "The service failed (HTTP %u): try again later, or tell its "
                                "administrator", status);
      break;
    case SIGNET_SERVICE_ERROR_BAD_RESPONSE:
    default:
      signet_service_error_set (error, SIGNET_SERVICE_ERROR_BAD_RESPONSE, status, api_error,
                                retry_after, "The service gave an unexpected answer (HTTP %u)",
                                status);
      break;
    }
}
