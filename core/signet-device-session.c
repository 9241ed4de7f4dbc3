/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-session.c: the device session engine (docs/engine.md).
 *
 * Every step is one Op (the GTask's data): it builds its request, runs it
 * through exchange (send, receive, retry the same bytes after a timeout,
 * decode, map a refusal to its GError) and hands the decoded response to
 * the step's handler, which verifies it and records the event.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-device-session.h"
#include "signet-x509.h"

#include "sp-cose.h"
#include "sp-cwt.h"
#include "sp-evidence.h"
#include "sp-msg.h"
#include "sp-revocation.h"

#define PROFILE_CONTENT_TYPE "application/signet-profile+cbor"
#define MAX_STALE_ANSWERS 4

typedef struct {
  char *kid;
  SignetKey *key;
} AuthorityKey;

struct _SignetDeviceSession
{
  GObject parent_instance;

  SignetTransport *transport;
  SignetServiceClient *client;
  SignetServiceSession *session;
  SignetEventLog *log;
  GPtrArray *authorities;        /* (element-type AuthorityKey) */
  GPtrArray *anchors;            /* (element-type GBytes) */
  GBytes *revocation_list;       /* nullable */
  guint max_retries;
  guint32 next_id;

  SignetDeviceInfo *info;        /* after HELLO */
  gboolean channel_tried;        /* the bulk channel of this HELLO's link was asked for */
  GBytes *nonce;
  gboolean attested;
  SignetKey *leaf_key;
  GBytes *evidence;
  GPtrArray *chain;              /* (element-type GBytes) */
  char *cert_fingerprint;
  gboolean authorized;
  GBytes *cti;
  guint64 seq;
  guint64 pending;               /* the pending version a receipt named, 0: none */
  gboolean busy;
  guint bulk_window;
  /* A command sent whose answer never came (the link dropped): its op
   * (0: none), the version it was about and the committed one before. */
  guint unfinished_op;
  guint64 unfinished_version;
  guint64 unfinished_from;
};

G_DEFINE_TYPE (SignetDeviceSession, signet_device_session, G_TYPE_OBJECT)

enum {
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_QUARK (signet-device-error-quark, signet_device_error)

typedef struct _Op Op;
typedef struct _Bulk Bulk;
typedef void (*OpHandler) (GTask *task, Op *op);

struct _Op {
  const char *step;
  OpHandler handler;
  GBytes *request;
  guint32 id;
  guint64 type;
  guint attempts;
  guint stale;
  GBytes *raw;
  sp_msg_response resp;
  /* step data */
  guint cmd_op;
  guint64 seq;
  guint64 version;
  GBytes *command;
  GBytes *challenge;
  GBytes *token;
  SignetServiceProfile *profile;  /* borrowed: the caller keeps it until finish */
  GVariant *values;
  GBytes *firmware_digest;
  Bulk *bulk;
};

static void bulk_free (Bulk *bulk);

static void
op_free (Op *op)
{
  g_clear_pointer (&op->bulk, bulk_free);
  g_clear_pointer (&op->firmware_digest, g_bytes_unref);
  g_clear_pointer (&op->request, g_bytes_unref);
  g_clear_pointer (&op->raw, g_bytes_unref);
  g_clear_pointer (&op->command, g_bytes_unref);
  g_clear_pointer (&op->challenge, g_bytes_unref);
  g_clear_pointer (&op->token, g_bytes_unref);
  g_clear_pointer (&op->values, g_variant_unref);
  g_free (op);
}

static void
authority_key_free (AuthorityKey *ak)
{
  g_free (ak->kid);
  g_clear_pointer (&ak->key, signet_key_unref);
  g_free (ak);
}

void
signet_device_info_free (SignetDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial);
  g_free (info->model);
  g_free (info->firmware);
  g_free (info);
}

void
signet_device_transfer_free (SignetDeviceTransfer *transfer)
{
  if (transfer == NULL)
    return;
  g_clear_pointer (&transfer->digest, g_bytes_unref);
  g_free (transfer);
}

void
signet_device_receipt_free (SignetDeviceReceipt *receipt)
{
  if (receipt == NULL)
    return;
  g_clear_pointer (&receipt->config_digest, g_bytes_unref);
  g_clear_pointer (&receipt->command, g_bytes_unref);
  g_clear_pointer (&receipt->command_digest, g_bytes_unref);
  g_clear_pointer (&receipt->receipt, g_bytes_unref);
  g_free (receipt);
}

/* ---- helpers ------------------------------------------------------------- */

static const char *
status_text (guint64 status)
{
  switch (status)
    {
    case SP_MSG_MALFORMED: return "the device could not read our request";
    case SP_MSG_UNSUPPORTED: return "the device does not support this operation";
    case SP_MSG_TOO_LARGE: return "the request is larger than the device accepts";
    case SP_MSG_BAD_STATE: return "the device is not ready for this step";
    case SP_MSG_TOKEN_MALFORMED: return "the device could not read the sign-in token";
    case SP_MSG_TOKEN_SIGNATURE: return "the device does not trust the service that signed it";
    case SP_MSG_TOKEN_EXPIRED: return "the sign-in has expired (by the device's clock)";
    case SP_MSG_TOKEN_NOT_YET_VALID: return "the sign-in is not valid yet (device clock?)";
    case SP_MSG_TOKEN_AUDIENCE: return "the sign-in token is not meant for devices";
    case SP_MSG_TOKEN_REVOKED: return "the sign-in has been revoked";
    case SP_MSG_COMMAND_SIGNATURE: return "the command is not signed by this sign-in's key";
    case SP_MSG_WRONG_TOKEN: return "the command belongs to another sign-in";
    case SP_MSG_WRONG_DEVICE: return "the command was made for another device";
    case SP_MSG_WRONG_NONCE: return "the command belongs to another session";
    case SP_MSG_REPLAY: return "the command was already used (replay)";
    case SP_MSG_SCOPE: return "your role does not allow this change";
    case SP_MSG_VERSION_ROLLBACK:
      return "the configuration version is not the one the device expects "
             "(an older version, or a commit of a version that is not pending)";
    case SP_MSG_SCHEMA: return "the device's model does not accept these values";
    case SP_MSG_STEP_UP: return "this change needs a fresh sign-in";
    case SP_MSG_DIGEST: return "a digest does not match";
    case SP_MSG_SEAL: return "the device could not open a sealed secret";
    case SP_MSG_HEALTH: return "the new configuration failed the device's health check";
    case SP_MSG_STORAGE: return "the device could not write its storage; nothing changed";
    case SP_MSG_REVOCATION_STALE: return "the device holds a newer revocation list";
    case SP_MSG_BULK_OFFSET: return "the transfer must resume elsewhere";
    case SP_MSG_NO_TRANSFER: return "no transfer is under way";
    default: return "the device refused";
    }
}

static gboolean
status_is_known (guint64 status)
{
  return (status >= 1 && status <= 25) || status == 30;
}

static void
emit_progress (SignetDeviceSession *self,
               const char          *step,
               double               fraction)
{
  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, step, fraction);
}

static gboolean
log_event (SignetDeviceSession *self,
           const char          *type,
           SignetEventData     *data,
           GError             **error)
{
  g_autoptr(GError) local = NULL;

  if (self->log == NULL)
    return TRUE;
  if (!signet_event_log_append (self->log, type, self->info != NULL ? self->info->serial : NULL,
                                data, &local))
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_EVENT_LOG,
                   "The event log could not record %s: %s", type, local->message);
      return FALSE;
    }
  return TRUE;
}

static void handle_receipt (GTask *task, Op *op);

/* Fail the step: record device.error (best effort: a log that cannot
 * take it is already broken and says so on the next append) and return
 * the error. */
static void
op_fail (GTask  *task,
         GError *error)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);

  /* A change sent without an answer: the device may or may not have
   * acted. The next HELLO tells which (handle_hello). */
  if (op->handler == handle_receipt && op->request != NULL && op->cmd_op != 0
      && error->domain == SIGNET_DEVICE_ERROR
      && (error->code == SIGNET_DEVICE_ERROR_TIMEOUT
          || error->code == SIGNET_DEVICE_ERROR_DISCONNECTED
          || error->code == SIGNET_DEVICE_ERROR_TRANSPORT
          || error->code == SIGNET_DEVICE_ERROR_CANCELLED))
    {
      self->unfinished_op = op->cmd_op;
      self->unfinished_version = op->version;
      self->unfinished_from = self->info != NULL ? self->info->config_version : 0;
    }
  if (self->log != NULL && !signet_event_log_is_broken (self->log)
      && !signet_event_log_is_closed (self->log))
    {
      g_autoptr(SignetEventData) data = signet_event_data_new ();

      signet_event_data_add_text (data, "step", op->step, NULL);
      /* which table the code is of: the device's (docs/protocol.md; local
       * ones from 100), the token service's (signet-service-error.h) */
      signet_event_data_add_text (data, "domain",
                                  error->domain == SIGNET_DEVICE_ERROR ? "device"
                                  : error->domain == SIGNET_SERVICE_ERROR ? "service"
                                  : g_quark_to_string (error->domain), NULL);
      signet_event_data_add_uint (data, "code", (guint64) error->code, NULL);
      signet_event_data_add_text (data, "message", error->message, NULL);
      log_event (self, "device.error", data, NULL);
    }
  self->busy = FALSE;
  g_task_return_error (task, error);
}

static void
op_fail_literal (GTask      *task,
                 gint        code,
                 const char *message)
{
  op_fail (task, g_error_new_literal (SIGNET_DEVICE_ERROR, code, message));
}

static void
op_done (GTask *task)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);

  self->busy = FALSE;
  emit_progress (self, op->step, 1.0);
}

static GError *
error_from_transport (const GError *e)
{
  gint code = SIGNET_DEVICE_ERROR_TRANSPORT;

  if (e->domain == SIGNET_TRANSPORT_ERROR)
    switch (e->code)
      {
      case SIGNET_TRANSPORT_ERROR_TIMEOUT:
        code = SIGNET_DEVICE_ERROR_TIMEOUT;
        break;
      case SIGNET_TRANSPORT_ERROR_CLOSED:
      case SIGNET_TRANSPORT_ERROR_DISCONNECTED:
        code = SIGNET_DEVICE_ERROR_DISCONNECTED;
        break;
      case SIGNET_TRANSPORT_ERROR_CANCELLED:
        code = SIGNET_DEVICE_ERROR_CANCELLED;
        break;
      case SIGNET_TRANSPORT_ERROR_TOO_LARGE:
        code = SIGNET_DEVICE_ERROR_TOO_LARGE;
        break;
      default:
        break;
      }
  if (code == SIGNET_DEVICE_ERROR_TIMEOUT)
    return g_error_new (SIGNET_DEVICE_ERROR, code,
                        "The device did not answer (check the cable and that it is on)");
  if (code == SIGNET_DEVICE_ERROR_CANCELLED)
    return g_error_new_literal (SIGNET_DEVICE_ERROR, code, "Cancelled");
  return g_error_new (SIGNET_DEVICE_ERROR, code, "The link to the device failed: %s",
                      e->message);
}

/* A failure of the token service keeps its own domain and code
 * (SIGNET_SERVICE_ERROR: STEP_UP_REQUIRED, UNAUTHORIZED, FORBIDDEN,
 * UNREACHABLE...), so the caller can tell "sign in again" from "ask for a
 * fresh code" from "do not use this device"; only a cancellation becomes
 * the engine's. */
static GError *
error_from_service (const GError *e)
{
  if (e->domain == SIGNET_SERVICE_ERROR && e->code == SIGNET_SERVICE_ERROR_CANCELLED)
    return g_error_new_literal (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_CANCELLED, "Cancelled");
  return g_error_copy (e);
}

static gboolean
text_equal (sp_msg_text t,
            const char *s)
{
  return t.ptr != NULL && strlen (s) == t.len && memcmp (t.ptr, s, t.len) == 0;
}

static gboolean
bytes_equal (const guint8 *p,
             gsize         len,
             GBytes       *b)
{
  gsize blen;
  const guint8 *bp = g_bytes_get_data (b, &blen);

  return p != NULL && len == blen && CRYPTO_memcmp (p, bp, len) == 0;
}

/* ---- the exchange -------------------------------------------------------- */

static void exchange_send (GTask *task);

static void
on_received (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  gsize len;
  const guint8 *p;
  sp_err err;

  raw = signet_transport_receive_finish (SIGNET_TRANSPORT (source), result, &error);
  if (raw == NULL)
    {
      if (g_error_matches (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TIMEOUT)
          && op->attempts < self->max_retries)
        {
          /* The same bytes, the same id: the device answers from its
           * cache if it had acted on the first one. */
          op->attempts++;
          g_debug ("%s: no answer, retry %u", op->step, op->attempts);
          exchange_send (g_steal_pointer (&task));
          return;
        }
      op_fail (task, error_from_transport (error));
      return;
    }
  p = g_bytes_get_data (raw, &len);
  memset (&op->resp, 0, sizeof op->resp);
  err = sp_msg_response_decode (p, len, &op->resp);
  if (err == SP_OK && op->resp.id != op->id && op->stale < MAX_STALE_ANSWERS)
    {
      /* A late answer to an earlier request (or to a retry of it). */
      GCancellable *cancellable = g_task_get_cancellable (task);

      op->stale++;
      signet_transport_receive_async (self->transport, cancellable, on_received,
                                      g_steal_pointer (&task));
      return;
    }
  if (err != SP_OK)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_PROTOCOL,
                                  "The device answered %s with something that is not a "
                                  "protocol message (%s)", op->step, sp_strerror (err)));
      return;
    }
  if (op->resp.id != op->id)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_PROTOCOL,
                       "The device answered another request");
      return;
    }
  if (op->resp.status != SP_MSG_OK)
    {
      guint64 st = op->resp.status;

      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR,
                                  status_is_known (st) ? (gint) st : SIGNET_DEVICE_ERROR_FAILED,
                                  "%s refused: %s (%s, status %" G_GUINT64_FORMAT ")",
                                  op->step, status_text (st), sp_msg_status_name (st), st));
      return;
    }
  if (op->resp.type != (op->type | SP_MSG_RESPONSE_BIT))
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_PROTOCOL,
                       "The device answered with a message of another type");
      return;
    }
  g_clear_pointer (&op->raw, g_bytes_unref);
  op->raw = g_steal_pointer (&raw);
  op->handler (task, op);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  if (!signet_transport_send_finish (SIGNET_TRANSPORT (source), result, &error))
    {
      if (g_error_matches (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TIMEOUT)
          && op->attempts < self->max_retries)
        {
          op->attempts++;
          exchange_send (g_steal_pointer (&task));
          return;
        }
      op_fail (task, error_from_transport (error));
      return;
    }
  cancellable = g_task_get_cancellable (task);
  signet_transport_receive_async (self->transport, cancellable, on_received,
                                  g_steal_pointer (&task));
}

static void
exchange_send (GTask *task)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);

  signet_transport_send_async (self->transport, op->request, g_task_get_cancellable (task),
                               on_sent, task);
}

/* Encode req with a fresh id and run it; the handler gets the answer. */
static void
exchange (GTask          *task_in,
          sp_msg_request *req)
{
  g_autoptr(GTask) task = task_in;
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autofree guint8 *buf = g_malloc (SP_MSG_MAX);
  size_t len = 0;
  sp_err err;

  req->id = self->next_id++;
  if (self->next_id == 0)
    self->next_id = 1;
  err = sp_msg_request_encode (req, buf, SP_MSG_MAX, &len);
  if (err != SP_OK)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_TOO_LARGE,
                                  "The %s request cannot be encoded (%s)", op->step,
                                  sp_strerror (err)));
      return;
    }
  op->id = req->id;
  op->type = req->type;
  op->request = g_bytes_new (buf, len);
  exchange_send (g_steal_pointer (&task));
}

/* A task for a step; NULL (and callback called with the error) if the
 * session is busy or not ready. */
static GTask *
op_begin (SignetDeviceSession *self,
          const char          *step,
          OpHandler            handler,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  op->step = step;
  op->handler = handler;
  g_task_set_task_data (task, op, (GDestroyNotify) op_free);
  if (self->busy)
    {
      g_task_return_new_error (task, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_NOT_READY,
                               "Another step is still running");
      return NULL;
    }
  self->busy = TRUE;
  emit_progress (self, step, 0.0);
  return g_steal_pointer (&task);
}

/* ---- commands and receipts ----------------------------------------------- */

static GBytes *
build_command (SignetDeviceSession *self,
               guint                cmd_op,
               const guint8        *args,
               gsize                args_len,
               guint64             *out_seq,
               GError             **error)
{
  g_autofree guint8 *buf = g_malloc (SP_MSG_MAX);
  sp_msg_command cmd = { 0 };
  size_t len = 0;
  sp_err err;

  cmd.serial = sp_msg_text_from (self->info->serial);
  cmd.nonce.ptr = g_bytes_get_data (self->nonce, &cmd.nonce.len);
  cmd.seq = self->seq + 1;
  cmd.op = cmd_op;
  cmd.args.ptr = args;
  cmd.args.len = args_len;
  cmd.cti.ptr = g_bytes_get_data (self->cti, &cmd.cti.len);
  err = sp_msg_command_sign (signet_crypto_port_openssl (),
                             signet_key_get_sp_key (signet_service_session_get_pop_key (self->session)),
                             &cmd, buf, SP_MSG_MAX, &len);
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_FAILED,
                   "The command could not be signed (%s)", sp_strerror (err));
      return NULL;
    }
  self->seq = cmd.seq;
  *out_seq = cmd.seq;
  return g_bytes_new (buf, len);
}

static SignetDeviceReceipt *
verify_receipt (SignetDeviceSession *self,
                Op                  *op,
                GError             **error)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (self->leaf_key);
  g_autoptr(GBytes) digest = signet_sha256 (op->command);
  sp_msg_receipt r = { 0 };
  SignetDeviceReceipt *out;
  sp_err err;

  err = sp_msg_receipt_verify (signet_crypto_port_openssl (), op->resp.receipt.ptr,
                               op->resp.receipt.len, g_bytes_get_data (pub, NULL), &r);
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_RECEIPT,
                   "The device's receipt does not verify with its identity key (%s)",
                   sp_strerror (err));
      return NULL;
    }
  if (!text_equal (r.serial, self->info->serial)
      || !bytes_equal (r.nonce.ptr, r.nonce.len, self->nonce)
      || r.seq != op->seq || r.op != op->cmd_op || r.result != 0
      || !bytes_equal (r.command_digest.ptr, r.command_digest.len, digest))
    {
      g_set_error_literal (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_RECEIPT,
                           "The device's receipt is not for the command we sent");
      return NULL;
    }
  out = g_new0 (SignetDeviceReceipt, 1);
  out->op = (guint) r.op;
  out->seq = r.seq;
  out->committed_version = r.committed_version;
  out->pending_version = r.pending_version;
  out->device_time = r.device_time;
  out->config_digest = g_bytes_new (r.config_digest.ptr, r.config_digest.len);
  out->command = g_bytes_ref (op->command);
  out->command_digest = g_steal_pointer (&digest);
  out->receipt = g_bytes_new (op->resp.receipt.ptr, op->resp.receipt.len);
  return out;
}

static const char *
op_event_name (guint cmd_op)
{
  switch (cmd_op)
    {
    case SP_MSG_OP_APPLY: return "device.apply";
    case SP_MSG_OP_COMMIT: return "device.commit";
    case SP_MSG_OP_ROLLBACK: return "device.rollback";
    default: return "device.command";
    }
}

static void
handle_receipt (GTask *task,
                Op    *op)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) receipt = verify_receipt (self, op, &error);
  g_autoptr(SignetEventData) data = NULL;

  if (receipt == NULL)
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  if ((op->cmd_op == SP_MSG_OP_APPLY && op->version != 0
       && receipt->pending_version != op->version)
      || (op->cmd_op == SP_MSG_OP_COMMIT && op->version != 0
          && (receipt->committed_version != op->version || receipt->pending_version != 0)))
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_BAD_RECEIPT,
                       "The device's receipt names another configuration version");
      return;
    }
  self->info->config_version = receipt->committed_version;
  self->pending = receipt->pending_version;
  self->unfinished_op = 0;
  data = signet_event_data_new ();
  signet_event_data_add_uint (data, "op", receipt->op, NULL);
  signet_event_data_add_uint (data, "seq", receipt->seq, NULL);
  signet_event_data_add_uint (data, "committed_version", receipt->committed_version, NULL);
  signet_event_data_add_uint (data, "pending_version", receipt->pending_version, NULL);
  signet_event_data_add_bytes (data, "config_digest", receipt->config_digest, NULL);
  signet_event_data_add_bytes (data, "receipt", receipt->receipt, NULL);
  if (!log_event (self, "device.receipt", data, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  op_done (task);
  g_task_return_pointer (task, g_steal_pointer (&receipt),
                         (GDestroyNotify) signet_device_receipt_free);
}

/* Record the command, then send it (with sealed, an encoded array, for
 * APPLY). */
static void
send_command (GTask        *task_in,
              Op           *op,
              const guint8 *sealed,
              gsize         sealed_len,
              gsize         n_sealed,
              SignetEventData *extra)
{
  g_autoptr(GTask) task = task_in;
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetEventData) own = NULL;
  g_autoptr(GBytes) digest = signet_sha256 (op->command);
  SignetEventData *data = extra;
  sp_msg_request req = { 0 };
  static const guint8 empty_array = 0x80;

  if (data == NULL)
    data = own = signet_event_data_new ();
  signet_event_data_add_uint (data, "seq", op->seq, NULL);
  signet_event_data_add_bytes (data, "command_digest", digest, NULL);
  if (op->version != 0)
    signet_event_data_add_uint (data, "config_version", op->version, NULL);
  if (!log_event (self, op_event_name (op->cmd_op), data, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  emit_progress (self, op->step, 0.5);
  req.type = SP_MSG_APPLY + (op->cmd_op - SP_MSG_OP_APPLY);
  req.command.ptr = g_bytes_get_data (op->command, &req.command.len);
  if (req.type == SP_MSG_APPLY)
    {
      req.sealed.ptr = sealed != NULL ? sealed : &empty_array;
      req.sealed.len = sealed != NULL ? sealed_len : 1;
      req.n_sealed = n_sealed;
    }
  op->handler = handle_receipt;
  exchange (g_steal_pointer (&task), &req);
}

static gboolean
check_ready (SignetDeviceSession *self,
             gboolean             need_attest,
             gboolean             need_token,
             GError             **error)
{
  if (self->info == NULL)
    {
      g_set_error_literal (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_NOT_READY,
                           "No session with the device yet (HELLO first)");
      return FALSE;
    }
  if (need_attest && !self->attested)
    {
      g_set_error_literal (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_NOT_READY,
                           "The device has not been verified yet (attest first)");
      return FALSE;
    }
  if (need_token && !self->authorized)
    {
      g_set_error_literal (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_NOT_READY,
                           "The device has not been authorised yet");
      return FALSE;
    }
  return TRUE;
}

/* ---- GObject ------------------------------------------------------------- */

static void
signet_device_session_finalize (GObject *object)
{
  SignetDeviceSession *self = SIGNET_DEVICE_SESSION (object);

  g_clear_object (&self->transport);
  g_clear_object (&self->client);
  g_clear_pointer (&self->session, signet_service_session_unref);
  g_clear_object (&self->log);
  g_clear_pointer (&self->authorities, g_ptr_array_unref);
  g_clear_pointer (&self->anchors, g_ptr_array_unref);
  g_clear_pointer (&self->revocation_list, g_bytes_unref);
  g_clear_pointer (&self->info, signet_device_info_free);
  g_clear_pointer (&self->nonce, g_bytes_unref);
  g_clear_pointer (&self->leaf_key, signet_key_unref);
  g_clear_pointer (&self->evidence, g_bytes_unref);
  g_clear_pointer (&self->chain, g_ptr_array_unref);
  g_clear_pointer (&self->cert_fingerprint, g_free);
  g_clear_pointer (&self->cti, g_bytes_unref);
  G_OBJECT_CLASS (signet_device_session_parent_class)->finalize (object);
}

static void
signet_device_session_class_init (SignetDeviceSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = signet_device_session_finalize;

  /**
   * SignetDeviceSession::progress:
   * @step: the step's name ("hello", "attest", ...)
   * @fraction: 0 at its start, 1 when done
   */
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DOUBLE);
}

static void
signet_device_session_init (SignetDeviceSession *self)
{
  self->max_retries = SIGNET_DEVICE_SESSION_MAX_RETRIES_DEFAULT;
  self->bulk_window = SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT;
  self->next_id = 1;
  self->authorities = g_ptr_array_new_with_free_func ((GDestroyNotify) authority_key_free);
  self->anchors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

/* ---- public API ---------------------------------------------------------- */

SignetDeviceSession *
signet_device_session_new (SignetTransport          *transport,
                           SignetServiceClient      *client,
                           SignetServiceSession     *session,
                           const SignetServiceTrust *trust,
                           SignetEventLog           *log)
{
  SignetDeviceSession *self;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (transport), NULL);
  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (client), NULL);
  g_return_val_if_fail (trust != NULL, NULL);
  g_return_val_if_fail (log == NULL || SIGNET_IS_EVENT_LOG (log), NULL);

  self = g_object_new (SIGNET_TYPE_DEVICE_SESSION, NULL);
  self->transport = g_object_ref (transport);
  self->client = g_object_ref (client);
  self->session = session != NULL ? signet_service_session_ref (session) : NULL;
  self->log = log != NULL ? g_object_ref (log) : NULL;
  for (guint i = 0; trust->authority_keys != NULL && i < trust->authority_keys->len; i++)
    {
      const SignetServiceAuthorityKey *k = g_ptr_array_index (trust->authority_keys, i);
      AuthorityKey *ak = g_new0 (AuthorityKey, 1);

      ak->kid = g_strdup (k->kid);
      ak->key = signet_key_ref (k->key);
      g_ptr_array_add (self->authorities, ak);
    }
  for (guint i = 0; trust->manufacturer_cas != NULL && i < trust->manufacturer_cas->len; i++)
    g_ptr_array_add (self->anchors, g_bytes_ref (g_ptr_array_index (trust->manufacturer_cas, i)));
  if (trust->revocation_list != NULL)
    self->revocation_list = g_bytes_ref (trust->revocation_list);
  return self;
}

void
signet_device_session_set_max_retries (SignetDeviceSession *self,
                                       guint                retries)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (retries <= 10);
  self->max_retries = retries;
}

void
signet_device_session_set_bulk_window (SignetDeviceSession *self,
                                       guint                window)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (window >= 1 && window <= SIGNET_DEVICE_SESSION_BULK_WINDOW_MAX);
  self->bulk_window = window;
}

void
signet_device_session_set_transport (SignetDeviceSession *self,
                                     SignetTransport     *transport)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (SIGNET_IS_TRANSPORT (transport));
  g_return_if_fail (!self->busy);

  g_set_object (&self->transport, transport);
  /* What the old link proved is gone until HELLO, ATTEST and AUTHORIZE
   * run again over the new one. */
  self->attested = FALSE;
  self->authorized = FALSE;
}

const SignetDeviceInfo *
signet_device_session_get_info (SignetDeviceSession *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE_SESSION (self), NULL);
  return self->info;
}

const char *
signet_device_session_get_cert_fingerprint (SignetDeviceSession *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE_SESSION (self), NULL);
  return self->cert_fingerprint;
}

GBytes *
signet_device_session_dup_nonce (SignetDeviceSession *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE_SESSION (self), NULL);
  return self->nonce != NULL ? g_bytes_ref (self->nonce) : NULL;
}

/* ---- HELLO ---------------------------------------------------------------- */

/* A change whose answer never came, judged by what a new HELLO says: a
 * HELLO (and a boot) rolls back whatever is pending (docs/protocol.md),
 * so an APPLY left in doubt is gone, and a COMMIT landed if the
 * committed version is the one it named. */
static gboolean
log_recovery (SignetDeviceSession *self,
              GError             **error)
{
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  guint64 now = self->info->config_version;
  const char *outcome;

  switch (self->unfinished_op)
    {
    case SP_MSG_OP_APPLY:
      outcome = now == self->unfinished_from ? "rolled-back" : "unexpected-version";
      break;
    case SP_MSG_OP_COMMIT:
      outcome = now == self->unfinished_version ? "committed"
                : now == self->unfinished_from ? "rolled-back" : "unexpected-version";
      break;
    default:
      outcome = now == self->unfinished_from ? "unchanged" : "changed";
      break;
    }
  signet_event_data_add_text (data, "op", op_event_name (self->unfinished_op) + strlen ("device."),
                              NULL);
  if (self->unfinished_version != 0)
    signet_event_data_add_uint (data, "version", self->unfinished_version, NULL);
  signet_event_data_add_uint (data, "config_version_before", self->unfinished_from, NULL);
  signet_event_data_add_uint (data, "config_version", now, NULL);
  signet_event_data_add_uint (data, "pending_version", 0, NULL);
  signet_event_data_add_text (data, "outcome", outcome, NULL);
  self->unfinished_op = 0;
  return log_event (self, "device.recovery", data, error);
}

static void
handle_hello (GTask *task,
              Op    *op)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  const sp_msg_response *r = &op->resp;
  g_autoptr(SignetDeviceInfo) info = g_new0 (SignetDeviceInfo, 1);
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GError) error = NULL;

  if (!g_utf8_validate (r->serial.ptr, r->serial.len, NULL)
      || !g_utf8_validate (r->model.ptr, r->model.len, NULL)
      || !g_utf8_validate (r->firmware.ptr, r->firmware.len, NULL)
      || r->nonce.len != SP_MSG_NONCE_LEN)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_PROTOCOL, "The device's HELLO is malformed");
      return;
    }
  info->serial = g_strndup (r->serial.ptr, r->serial.len);
  info->model = g_strndup (r->model.ptr, r->model.len);
  info->firmware = g_strndup (r->firmware.ptr, r->firmware.len);
  info->config_version = r->config_version;
  info->capabilities = r->capabilities;
  info->device_time = r->device_time;
  info->clock = r->clock;
  info->max_message = r->max_message;
  info->revocation_version = r->revocation_version;
  if ((r->capabilities & SP_MSG_CAP_L2CAP) != 0 && r->has_psm && r->psm > 0 && r->psm <= G_MAXUINT16)
    info->bulk_psm = (guint16) r->psm;

  /* A new session: whatever the last one proved is gone. */
  g_clear_pointer (&self->info, signet_device_info_free);
  self->info = g_steal_pointer (&info);
  g_clear_pointer (&self->nonce, g_bytes_unref);
  self->nonce = g_bytes_new (r->nonce.ptr, r->nonce.len);
  self->attested = FALSE;
  self->authorized = FALSE;
  self->channel_tried = FALSE;
  self->seq = 0;
  self->pending = 0;
  g_clear_pointer (&self->leaf_key, signet_key_unref);
  g_clear_pointer (&self->evidence, g_bytes_unref);
  g_clear_pointer (&self->chain, g_ptr_array_unref);
  g_clear_pointer (&self->cert_fingerprint, g_free);

  signet_event_data_add_text (data, "serial", self->info->serial, NULL);
  signet_event_data_add_text (data, "model", self->info->model, NULL);
  signet_event_data_add_text (data, "firmware", self->info->firmware, NULL);
  signet_event_data_add_uint (data, "config_version", self->info->config_version, NULL);
  signet_event_data_add_uint (data, "revocation_version", self->info->revocation_version, NULL);
  if (!log_event (self, "device.hello", data, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  if (self->unfinished_op != 0 && !log_recovery (self, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  op_done (task);
  g_task_return_boolean (task, TRUE);
}

void
signet_device_session_hello_async (SignetDeviceSession *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task;
  sp_msg_request req = { .type = SP_MSG_HELLO };

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  task = op_begin (self, "hello", handle_hello, signet_device_session_hello_async, cancellable,
                   callback, user_data);
  if (task != NULL)
    exchange (task, &req);
}

gboolean
signet_device_session_hello_finish (SignetDeviceSession *self,
                                    GAsyncResult        *result,
                                    GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- ATTEST --------------------------------------------------------------- */

/* The revoked device serials of the trust document's list, after checking
 * its signature with the authority keys. */
static GStrv
revoked_serials (SignetDeviceSession *self,
                 GError             **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_autofree sp_cbor_item *items = NULL;
  sp_cose_sign1 s1 = { 0 };
  sp_revocation_list list = { 0 };
  const AuthorityKey *signer = NULL;
  gsize len;
  const guint8 *p;
  sp_err err;

  if (self->revocation_list == NULL)
    return g_strv_builder_end (b);
  p = g_bytes_get_data (self->revocation_list, &len);
  err = sp_cose_sign1_decode (p, len, NULL, &s1);
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&s1, SP_REVOCATION_CONTENT_TYPE);
  for (guint i = 0; err == SP_OK && signer == NULL && i < self->authorities->len; i++)
    {
      const AuthorityKey *ak = g_ptr_array_index (self->authorities, i);

      if (strlen (ak->kid) == s1.kid_len && memcmp (ak->kid, s1.kid, s1.kid_len) == 0)
        signer = ak;
    }
  if (err == SP_OK && signer == NULL)
    err = SP_ERR_UNKNOWN_KEY;
  if (err == SP_OK)
    {
      g_autoptr(GBytes) pub = signet_key_get_public_bytes (signer->key);

      err = sp_cose_sign1_verify (signet_crypto_port_openssl (), &s1,
                                  g_bytes_get_data (pub, NULL), NULL, 0);
    }
  if (err == SP_OK)
    {
      items = g_new0 (sp_cbor_item, SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES));
      err = sp_revocation_decode (s1.payload, s1.payload_len, items,
                                  SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES), &list);
    }
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_UNTRUSTED,
                   "The service's revocation list does not verify (%s)", sp_strerror (err));
      return NULL;
    }
  for (size_t i = 0; i < sp_revocation_count (&list, SP_REVOCATION_SERIAL); i++)
    {
      sp_revocation_view v;

      if (sp_revocation_get (&list, SP_REVOCATION_SERIAL, i, &v) == SP_OK)
        {
          g_autofree char *serial = g_strndup ((const char *) v.ptr, v.len);

          g_strv_builder_add (b, serial);
        }
    }
  return g_strv_builder_end (b);
}

static void
attest_refused (GTask      *task,
                GError     *error)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(SignetEventData) data = signet_event_data_new ();

  signet_event_data_add_text (data, "verdict", "refused", NULL);
  signet_event_data_add_text (data, "serial", self->info->serial, NULL);
  signet_event_data_add_text (data, "reason", error->message, NULL);
  log_event (self, "device.attest", data, NULL);
  op_fail (task, error);
}

static void
handle_attest (GTask *task,
               Op    *op)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  const sp_msg_response *r = &op->resp;
  g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) leaf_key = NULL;
  g_autofree char *cert_serial = NULL;
  g_auto(GStrv) revoked = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(SignetX509Info) x509_info = NULL;
  g_autoptr(SignetEventData) data = NULL;
  sp_evidence ev = { 0 };
  sp_err err;

  for (size_t i = 0; i < r->n_chain; i++)
    g_ptr_array_add (chain, g_bytes_new (r->chain[i].ptr, r->chain[i].len));
  revoked = revoked_serials (self, &error);
  if (revoked == NULL)
    {
      attest_refused (task, g_steal_pointer (&error));
      return;
    }
  if (!signet_x509_verify_chain (chain, self->anchors, (const char * const *) revoked,
                                 g_get_real_time () / G_USEC_PER_SEC, &leaf_key, &cert_serial,
                                 &error))
    {
      gboolean is_revoked = g_error_matches (error, SIGNET_X509_ERROR, SIGNET_X509_ERROR_REVOKED);

      attest_refused (task, g_error_new (SIGNET_DEVICE_ERROR,
                                         is_revoked ? SIGNET_DEVICE_ERROR_REVOKED
                                                    : SIGNET_DEVICE_ERROR_UNTRUSTED,
                                         is_revoked ? "Device %s is revoked: do not use it"
                                                    : "Device %s is not a genuine device of a "
                                                      "trusted manufacturer (%s)",
                                         self->info->serial, error->message));
      return;
    }
  if (g_strcmp0 (cert_serial, self->info->serial) != 0)
    {
      attest_refused (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_EVIDENCE,
                                         "The device calls itself %s but its certificate is "
                                         "for another serial", self->info->serial));
      return;
    }
  pub = signet_key_get_public_bytes (leaf_key);
  err = sp_evidence_verify (signet_crypto_port_openssl (), r->evidence.ptr, r->evidence.len,
                            g_bytes_get_data (pub, NULL), &ev);
  if (err != SP_OK)
    {
      attest_refused (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_EVIDENCE,
                                         "The device's attestation does not verify (%s)",
                                         sp_strerror (err)));
      return;
    }
  if (!bytes_equal (ev.challenge, SP_EVIDENCE_CHALLENGE_LEN, op->challenge)
      || !bytes_equal (ev.session_nonce, SP_EVIDENCE_NONCE_LEN, self->nonce))
    {
      attest_refused (task, g_error_new_literal (SIGNET_DEVICE_ERROR,
                                                 SIGNET_DEVICE_ERROR_BAD_EVIDENCE,
                                                 "The device's attestation does not answer our "
                                                 "challenge in this session (a replay or a "
                                                 "clone?)"));
      return;
    }
  if (ev.serial_len != strlen (self->info->serial)
      || memcmp (ev.serial, self->info->serial, ev.serial_len) != 0
      || ev.model_len != strlen (self->info->model)
      || memcmp (ev.model, self->info->model, ev.model_len) != 0)
    {
      attest_refused (task, g_error_new_literal (SIGNET_DEVICE_ERROR,
                                                 SIGNET_DEVICE_ERROR_BAD_EVIDENCE,
                                                 "The device's attestation names another serial "
                                                 "or model than its HELLO"));
      return;
    }
  x509_info = signet_x509_info_new (g_ptr_array_index (chain, 0), &error);
  if (x509_info == NULL)
    {
      attest_refused (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_UNTRUSTED,
                                         "The device certificate cannot be read: %s",
                                         error->message));
      return;
    }

  /* a second ATTEST in a session replaces the first one's results */
  g_clear_pointer (&self->leaf_key, signet_key_unref);
  g_clear_pointer (&self->evidence, g_bytes_unref);
  g_clear_pointer (&self->chain, g_ptr_array_unref);
  g_clear_pointer (&self->cert_fingerprint, g_free);
  self->attested = TRUE;
  self->leaf_key = g_steal_pointer (&leaf_key);
  self->evidence = g_bytes_new (r->evidence.ptr, r->evidence.len);
  self->chain = g_steal_pointer (&chain);
  self->cert_fingerprint = g_strdup (x509_info->sha256_hex);

  data = signet_event_data_new ();
  signet_event_data_add_text (data, "verdict", "trusted", NULL);
  signet_event_data_add_text (data, "serial", self->info->serial, NULL);
  signet_event_data_add_text (data, "model", self->info->model, NULL);
  signet_event_data_add_text (data, "cert_sha256", self->cert_fingerprint, NULL);
  signet_event_data_add_bytes (data, "evidence", self->evidence, NULL);
  if (!log_event (self, "device.attest", data, &error))
    {
      self->attested = FALSE;
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  op_done (task);
  g_task_return_boolean (task, TRUE);
}

void
signet_device_session_attest_async (SignetDeviceSession *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task;
  Op *op;
  GError *error = NULL;
  sp_msg_request req = { .type = SP_MSG_ATTEST };

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  task = op_begin (self, "attest", handle_attest, signet_device_session_attest_async,
                   cancellable, callback, user_data);
  if (task == NULL)
    return;
  op = g_task_get_task_data (task);
  if (!check_ready (self, FALSE, FALSE, &error)
      || (op->challenge = signet_random_bytes (SP_MSG_CHALLENGE_LEN, &error)) == NULL)
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  req.challenge.ptr = g_bytes_get_data (op->challenge, &req.challenge.len);
  exchange (task, &req);
}

gboolean
signet_device_session_attest_finish (SignetDeviceSession *self,
                                     GAsyncResult        *result,
                                     GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- REVOCATION ----------------------------------------------------------- */

static void
handle_revocation (GTask *task,
                   Op    *op)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GError) error = NULL;
  guint64 *version = g_new (guint64, 1);

  *version = op->resp.version;
  self->info->revocation_version = op->resp.version;
  signet_event_data_add_uint (data, "version", op->resp.version, NULL);
  if (!log_event (self, "device.revocation", data, &error))
    {
      g_free (version);
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  op_done (task);
  g_task_return_pointer (task, version, g_free);
}

void
signet_device_session_push_revocation_async (SignetDeviceSession *self,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  GTask *task;
  GError *error = NULL;
  sp_msg_request req = { .type = SP_MSG_REVOCATION };

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  task = op_begin (self, "revocation", handle_revocation,
                   signet_device_session_push_revocation_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  if (!check_ready (self, FALSE, FALSE, &error))
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  if (self->revocation_list == NULL)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_NOT_READY,
                       "The service gave no revocation list");
      g_object_unref (task);
      return;
    }
  req.list.ptr = g_bytes_get_data (self->revocation_list, &req.list.len);
  exchange (task, &req);
}

gboolean
signet_device_session_push_revocation_finish (SignetDeviceSession *self,
                                              GAsyncResult        *result,
                                              guint64             *out_version,
                                              GError             **error)
{
  g_autofree guint64 *version = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  version = g_task_propagate_pointer (G_TASK (result), error);
  if (version == NULL)
    return FALSE;
  if (out_version != NULL)
    *out_version = *version;
  return TRUE;
}

/* ---- AUTHORIZE ------------------------------------------------------------ */

static void
handle_authorize (GTask *task,
                  Op    *op)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *scope = NULL;

  if (!g_utf8_validate (op->resp.scope.ptr, op->resp.scope.len, NULL))
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_PROTOCOL, "The device's scope is not text");
      return;
    }
  scope = g_strndup (op->resp.scope.ptr, op->resp.scope.len);
  self->authorized = TRUE;
  signet_event_data_add_uint (data, "exp", op->resp.exp, NULL);
  signet_event_data_add_text (data, "scope", scope, NULL);
  signet_event_data_add_text (data, "session", signet_service_session_get_id (self->session),
                              NULL);
  /* The token whole, so a reviewer can re-check it (DESIGN.md §6). */
  signet_event_data_add_bytes (data, "token", op->token, NULL);
  if (!log_event (self, "device.authorize", data, &error))
    {
      self->authorized = FALSE;
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  op_done (task);
  g_task_return_boolean (task, TRUE);
}

void
signet_device_session_authorize_async (SignetDeviceSession *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;
  Op *op;
  GError *error = NULL;
  sp_msg_request req = { .type = SP_MSG_AUTHORIZE };
  sp_cose_sign1 s1 = { 0 };
  sp_cwt_claims claims;
  gsize len;
  const guint8 *p;
  sp_err err;

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  task = op_begin (self, "authorize", handle_authorize, signet_device_session_authorize_async,
                   cancellable, callback, user_data);
  if (task == NULL)
    return;
  op = g_task_get_task_data (task);
  if (!check_ready (self, FALSE, FALSE, &error))
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  op->token = self->session != NULL ? signet_service_session_dup_token (self->session) : NULL;
  if (op->token == NULL)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_NOT_READY,
                       self->session == NULL ? "Sign in first" : "You are signed out: sign in again");
      g_object_unref (task);
      return;
    }
  /* The cti every command of this session names. */
  memset (&claims, 0, sizeof claims);
  p = g_bytes_get_data (op->token, &len);
  err = sp_cose_sign1_decode (p, len, NULL, &s1);
  if (err == SP_OK)
    err = sp_cwt_claims_decode (s1.payload, s1.payload_len, &claims);
  if (err != SP_OK || claims.cti == NULL)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_SERVICE,
                                  "The service's token cannot be read (%s)",
                                  sp_strerror (err)));
      g_object_unref (task);
      return;
    }
  g_clear_pointer (&self->cti, g_bytes_unref);
  self->cti = g_bytes_new (claims.cti, claims.cti_len);
  req.token.ptr = p;
  req.token.len = len;
  exchange (task, &req);
}

gboolean
signet_device_session_authorize_finish (SignetDeviceSession *self,
                                        GAsyncResult        *result,
                                        GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- plan and APPLY ------------------------------------------------------- */

static const SignetServiceProfileField *
profile_field (const SignetServiceProfile *profile,
               const char                 *key)
{
  for (guint i = 0; profile->fields != NULL && i < profile->fields->len; i++)
    {
      const SignetServiceProfileField *f = g_ptr_array_index (profile->fields, i);

      if (g_strcmp0 (f->key, key) == 0)
        return f;
    }
  return NULL;
}

static gboolean
variant_int (GVariant *v,
             gint64   *out)
{
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT16))
    *out = g_variant_get_int16 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT16))
    *out = g_variant_get_uint16 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_BYTE))
    *out = g_variant_get_byte (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64) && g_variant_get_uint64 (v) <= G_MAXINT64)
    *out = (gint64) g_variant_get_uint64 (v);
  else
    return FALSE;
  return TRUE;
}

static gboolean
validate_value (const SignetServiceProfileField *f,
                const char                      *key,
                GVariant                        *v,
                GError                         **error)
{
  gint64 n;

  if (f->secret)
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                   "%s is a secret: its value comes sealed from the service's vault", key);
      return FALSE;
    }
  if (g_strcmp0 (f->type, "bool") == 0)
    {
      if (!g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
        goto wrong_type;
      return TRUE;
    }
  if (g_strcmp0 (f->type, "int") == 0)
    {
      if (!variant_int (v, &n))
        goto wrong_type;
      if ((f->has_min && n < f->min) || (f->has_max && n > f->max))
        {
          g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                       "%s must lie between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                       " (it is %" G_GINT64_FORMAT ")", key, f->has_min ? f->min : G_MININT64,
                       f->has_max ? f->max : G_MAXINT64, n);
          return FALSE;
        }
      return TRUE;
    }
  if (g_strcmp0 (f->type, "string") == 0 || g_strcmp0 (f->type, "enum") == 0)
    {
      const char *s;

      if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
        goto wrong_type;
      s = g_variant_get_string (v, NULL);
      if (g_strcmp0 (f->type, "enum") == 0)
        {
          if (f->values == NULL || !g_strv_contains ((const char * const *) f->values, s))
            {
              g_autofree char *allowed = f->values != NULL ? g_strjoinv (", ", f->values)
                                                            : g_strdup ("");

              g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                           "%s must be one of: %s", key, allowed);
              return FALSE;
            }
          return TRUE;
        }
      /* Bytes of UTF-8, as profiles and device schemas count them. */
      n = (gint64) strlen (s);
      if ((f->has_min && n < f->min) || (f->has_max && n > f->max))
        {
          g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                       "%s must have between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                       " bytes", key, f->has_min ? f->min : 0,
                       f->has_max ? f->max : G_MAXINT64);
          return FALSE;
        }
      return TRUE;
    }
  g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_PROFILE,
               "The profile gives %s an unknown type", key);
  return FALSE;

wrong_type:
  g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
               "%s must be of type %s", key, f->type);
  return FALSE;
}

gboolean
signet_device_session_validate (SignetDeviceSession        *self,
                                const SignetServiceProfile *profile,
                                GVariant                   *values,
                                GError                    **error)
{
  g_autoptr(GVariant) owned = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *v;

  g_return_val_if_fail (SIGNET_IS_DEVICE_SESSION (self), FALSE);
  g_return_val_if_fail (profile != NULL, FALSE);
  g_return_val_if_fail (values != NULL && g_variant_is_of_type (values, G_VARIANT_TYPE_VARDICT),
                        FALSE);

  owned = g_variant_ref_sink (values);
  if (self->info != NULL && g_strcmp0 (profile->model, self->info->model) != 0)
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_PROFILE,
                   "Profile %s is for model %s, not for this %s", profile->id, profile->model,
                   self->info->model);
      return FALSE;
    }
  if (g_variant_n_children (values) > SP_MSG_VALUES_MAX)
    {
      g_set_error_literal (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                           "Too many values for one change");
      return FALSE;
    }
  g_variant_iter_init (&iter, values);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &v))
    {
      const SignetServiceProfileField *f = profile_field (profile, key);

      if (f == NULL)
        {
          g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                       "Profile %s does not set %s", profile->id, key);
          g_variant_unref (v);
          return FALSE;
        }
      if (!validate_value (f, key, v, error))
        {
          g_variant_unref (v);
          return FALSE;
        }
    }
  return TRUE;
}

/* The payload of the signed profile (its device form), after checking the
 * authority's signature; its SHA-256 is the profile digest. */
static GBytes *
profile_device_form (SignetDeviceSession        *self,
                     const SignetServiceProfile *profile,
                     GError                    **error)
{
  sp_cose_sign1 s1 = { 0 };
  const AuthorityKey *signer = NULL;
  gsize len;
  const guint8 *p;
  sp_err err = SP_ERR_VALUE;

  if (profile->signed_profile != NULL)
    {
      p = g_bytes_get_data (profile->signed_profile, &len);
      err = sp_cose_sign1_decode (p, len, NULL, &s1);
    }
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&s1, PROFILE_CONTENT_TYPE);
  for (guint i = 0; err == SP_OK && signer == NULL && i < self->authorities->len; i++)
    {
      const AuthorityKey *ak = g_ptr_array_index (self->authorities, i);

      if (strlen (ak->kid) == s1.kid_len && memcmp (ak->kid, s1.kid, s1.kid_len) == 0)
        signer = ak;
    }
  if (err == SP_OK && signer == NULL)
    err = SP_ERR_UNKNOWN_KEY;
  if (err == SP_OK)
    {
      g_autoptr(GBytes) pub = signet_key_get_public_bytes (signer->key);

      err = sp_cose_sign1_verify (signet_crypto_port_openssl (), &s1,
                                  g_bytes_get_data (pub, NULL), NULL, 0);
    }
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_PROFILE,
                   "Profile %s is not signed by the service (%s)", profile->id,
                   sp_strerror (err));
      return NULL;
    }
  return g_bytes_new (s1.payload, s1.payload_len);
}

typedef struct {
  const char *key;
  sp_msg_kv kv;
} KeyValue;

static int
compare_kv (gconstpointer a,
            gconstpointer b)
{
  const KeyValue *x = a, *y = b;

  return sp_msg_key_compare (x->key, strlen (x->key), y->key, strlen (y->key));
}

static int
compare_sealed (gconstpointer a,
                gconstpointer b)
{
  const SignetServiceSealed *x = *(SignetServiceSealed * const *) a;
  const SignetServiceSealed *y = *(SignetServiceSealed * const *) b;

  return sp_msg_key_compare (x->key, strlen (x->key), y->key, strlen (y->key));
}

static void
apply_send (GTask     *task_in,
            GPtrArray *sealed)
{
  g_autoptr(GTask) task = task_in;
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) form = NULL;
  g_autoptr(GBytes) profile_digest = NULL;
  g_autoptr(GArray) kvs = g_array_new (FALSE, TRUE, sizeof (KeyValue));
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autofree guint8 *values_buf = g_malloc (SP_MSG_MAX);
  g_autofree guint8 *digests_buf = g_malloc (SP_MSG_MAX);
  g_autofree guint8 *args_buf = g_malloc (SP_MSG_MAX);
  g_autofree guint8 *sealed_buf = g_malloc (SP_MSG_MAX);
  guint8 digests[SP_MSG_SEALED_MAX][SP_MSG_DIGEST_LEN];
  sp_msg_digest_entry dents[SP_MSG_SEALED_MAX];
  sp_msg_sealed sents[SP_MSG_SEALED_MAX];
  sp_msg_apply_args a = { 0 };
  size_t values_len = 0, digests_len = 0, args_len = 0, sealed_len = 0;
  guint n_sealed = sealed != NULL ? sealed->len : 0;
  GVariantIter iter;
  const char *key;
  GVariant *v;
  sp_err err;

  emit_progress (self, op->step, 0.3);
  form = profile_device_form (self, op->profile, &error);
  if (form == NULL)
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  profile_digest = signet_sha256 (form);
  if (n_sealed > SP_MSG_SEALED_MAX)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_TOO_LARGE, "Too many secrets for one change");
      return;
    }

  /* values, in deterministic key order; the strings stay in op->values */
  g_variant_iter_init (&iter, op->values);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &v))
    {
      KeyValue kv = { .key = key };
      gint64 n;

      kv.kv.key = sp_msg_text_from (key);
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
        {
          kv.kv.type = SP_CBOR_BOOL;
          kv.kv.b = g_variant_get_boolean (v);
        }
      else if (g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
        {
          kv.kv.type = SP_CBOR_TEXT;
          kv.kv.text = sp_msg_text_from (g_variant_get_string (v, NULL));
        }
      else if (variant_int (v, &n))
        {
          kv.kv.type = SP_CBOR_UINT;
          kv.kv.i = n;
        }
      /* held until the command is signed: kv points into it */
      g_ptr_array_add (held, v);
      g_array_append_val (kvs, kv);
    }
  g_array_sort (kvs, compare_kv);
  {
    g_autofree sp_msg_kv *flat = g_new0 (sp_msg_kv, kvs->len + 1);

    for (guint i = 0; i < kvs->len; i++)
      flat[i] = g_array_index (kvs, KeyValue, i).kv;
    err = sp_msg_values_encode (flat, kvs->len, values_buf, SP_MSG_MAX, &values_len);
  }

  /* sealed entries and their digests, in key order */
  if (sealed != NULL)
    g_ptr_array_sort (sealed, compare_sealed);
  for (guint i = 0; err == SP_OK && i < n_sealed; i++)
    {
      SignetServiceSealed *s = g_ptr_array_index (sealed, i);
      g_autoptr(GByteArray) both = g_byte_array_new ();
      gsize len;
      const guint8 *p;

      p = g_bytes_get_data (s->enc, &len);
      g_byte_array_append (both, p, len);
      sents[i].enc.ptr = p;
      sents[i].enc.len = len;
      p = g_bytes_get_data (s->ct, &len);
      g_byte_array_append (both, p, len);
      sents[i].ct.ptr = p;
      sents[i].ct.len = len;
      sents[i].key = sp_msg_text_from (s->key);
      signet_sha256_buf (both->data, both->len, digests[i]);
      dents[i].key = sents[i].key;
      dents[i].digest = digests[i];
    }
  if (err == SP_OK)
    err = sp_msg_digests_encode (dents, n_sealed, digests_buf, SP_MSG_MAX, &digests_len);
  if (err == SP_OK)
    err = sp_msg_sealed_encode (sents, n_sealed, sealed_buf, SP_MSG_MAX, &sealed_len);
  if (err == SP_OK)
    {
      a.config_version = self->info->config_version + 1;
      a.values.ptr = values_buf;
      a.values.len = values_len;
      a.n_values = kvs->len;
      a.digests.ptr = digests_buf;
      a.digests.len = digests_len;
      a.n_digests = n_sealed;
      a.profile = sp_msg_text_from (op->profile->id);
      a.profile_digest.ptr = g_bytes_get_data (profile_digest, &a.profile_digest.len);
      if (op->firmware_digest != NULL)
        a.firmware_digest.ptr = g_bytes_get_data (op->firmware_digest,
                                                  &a.firmware_digest.len);
      err = sp_msg_apply_args_encode (&a, args_buf, SP_MSG_MAX, &args_len);
    }
  if (err != SP_OK)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_TOO_LARGE,
                                  "The change cannot be encoded (%s)", sp_strerror (err)));
      return;
    }
  op->cmd_op = SP_MSG_OP_APPLY;
  op->version = a.config_version;
  op->command = build_command (self, SP_MSG_OP_APPLY, args_buf, args_len, &op->seq, &error);
  if (op->command == NULL)
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }

  /* What the log keeps of the change: never a secret, only its sealed
   * digest (DESIGN.md §6). */
  signet_event_data_add_text (data, "profile", op->profile->id, NULL);
  signet_event_data_add_int (data, "profile_version", op->profile->version, NULL);
  signet_event_data_add_bytes (data, "profile_digest", profile_digest, NULL);
  if (op->firmware_digest != NULL)
    signet_event_data_add_bytes (data, "firmware_digest", op->firmware_digest, NULL);
  for (guint i = 0; i < n_sealed; i++)
    {
      g_autofree char *name = g_strconcat ("sealed:", sents[i].key.ptr, NULL);
      g_autoptr(GBytes) d = g_bytes_new (digests[i], SP_MSG_DIGEST_LEN);

      signet_event_data_add_bytes (data, name, d, NULL);
    }
  send_command (g_steal_pointer (&task), op, sealed_buf, sealed_len, n_sealed, data);
}

static void
on_sealed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sealed = NULL;

  sealed = signet_service_client_seal_finish (SIGNET_SERVICE_CLIENT (source), result, &error);
  if (sealed == NULL)
    {
      op_fail (task, error_from_service (error));
      return;
    }
  apply_send (g_steal_pointer (&task), sealed);
}

static void
apply_start (SignetDeviceSession        *self,
             const SignetServiceProfile *profile,
             GVariant                   *values,
             GBytes                     *firmware_digest,
             gpointer                    source_tag,
             GCancellable               *cancellable,
             GAsyncReadyCallback         callback,
             gpointer                    user_data)
{
  g_autoptr(GStrvBuilder) secrets = g_strv_builder_new ();
  g_auto(GStrv) fields = NULL;
  GTask *task;
  Op *op;
  GError *error = NULL;

  g_variant_ref_sink (values);
  task = op_begin (self, "apply", handle_receipt, source_tag, cancellable, callback, user_data);
  if (task == NULL)
    {
      g_variant_unref (values);
      return;
    }
  op = g_task_get_task_data (task);
  op->values = values;
  op->profile = (SignetServiceProfile *) profile;
  op->firmware_digest = firmware_digest != NULL ? g_bytes_ref (firmware_digest) : NULL;
  if (!check_ready (self, TRUE, TRUE, &error)
      || !signet_device_session_validate (self, profile, values, &error))
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  for (guint i = 0; profile->fields != NULL && i < profile->fields->len; i++)
    {
      const SignetServiceProfileField *f = g_ptr_array_index (profile->fields, i);

      if (f->secret)
        g_strv_builder_add (secrets, f->key);
    }
  fields = g_strv_builder_end (secrets);
  if (fields[0] == NULL)
    {
      if (g_variant_n_children (values) == 0)
        {
          op_fail_literal (task, SIGNET_DEVICE_ERROR_INVALID_VALUE, "Nothing to change");
          g_object_unref (task);
          return;
        }
      apply_send (task, NULL);
      return;
    }
  emit_progress (self, "apply", 0.1);
  signet_service_client_seal_async (self->client, self->session, self->evidence, self->chain,
                                    profile->id, (const char * const *) fields, cancellable,
                                    on_sealed, task);
}

void
signet_device_session_apply_async (SignetDeviceSession        *self,
                                   const SignetServiceProfile *profile,
                                   GVariant                   *values,
                                   GCancellable               *cancellable,
                                   GAsyncReadyCallback         callback,
                                   gpointer                    user_data)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (profile != NULL);
  g_return_if_fail (values != NULL && g_variant_is_of_type (values, G_VARIANT_TYPE_VARDICT));

  apply_start (self, profile, values, NULL, signet_device_session_apply_async, cancellable,
               callback, user_data);
}

SignetDeviceReceipt *
signet_device_session_apply_finish (SignetDeviceSession *self,
                                    GAsyncResult        *result,
                                    GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
signet_device_session_apply_firmware_async (SignetDeviceSession        *self,
                                            const SignetServiceProfile *profile,
                                            GVariant                   *values,
                                            GBytes                     *firmware_digest,
                                            GCancellable               *cancellable,
                                            GAsyncReadyCallback         callback,
                                            gpointer                    user_data)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (profile != NULL);
  g_return_if_fail (values != NULL && g_variant_is_of_type (values, G_VARIANT_TYPE_VARDICT));
  g_return_if_fail (firmware_digest != NULL
                    && g_bytes_get_size (firmware_digest) == SP_MSG_DIGEST_LEN);

  apply_start (self, profile, values, firmware_digest,
               signet_device_session_apply_firmware_async, cancellable, callback, user_data);
}

SignetDeviceReceipt *
signet_device_session_apply_firmware_finish (SignetDeviceSession *self,
                                             GAsyncResult        *result,
                                             GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- bulk transfer -------------------------------------------------------- */

/* BULK_DATA's envelope around its data: map head, keys 0..3, type, a
 * uint32 id, an offset below 2^32 and the byte string's head (<= 23
 * bytes); a few to spare. */
#define BULK_DATA_OVERHEAD 32

/* Quiet BULK_DATA: a chunk in window / BULK_ACK_DIVISOR asks an answer,
 * so while one answer comes back the rest of the window is on the way. */
#define BULK_ACK_DIVISOR 2

/* One BULK_DATA in flight. gen is the resume generation it was sent in:
 * answers to an older one are only read to learn that they are answered.
 * A quiet one (docs/protocol.md, "Bulk transfer") is answered only if the
 * device refuses it; the others, always. */
typedef struct {
  guint32 id;
  guint32 gen;
  guint64 offset;
  guint len;
  gboolean quiet;
} BulkChunk;

struct _Bulk {
  GBytes *image;
  GBytes *digest;
  const guint8 *data;
  guint64 size;
  guint chunk;               /* data bytes of a full BULK_DATA */
  guint window;
  gboolean quiet;            /* the device takes quiet BULK_DATA */
  guint ack_every;           /* quiet: every ack_every-th chunk asks an answer */
  guint since_ack;           /* quiet chunks sent since the last that asks */
  guint expected;            /* chunks in inflight that will be answered */
  guint64 next;              /* the offset of the next chunk to send */
  guint64 acked;             /* the device's next offset, as last heard */
  guint64 resumed_from;
  guint32 gen;
  GQueue inflight;           /* (element-type BulkChunk) oldest first */
  guint32 status_id;         /* a BULK_STATUS in flight (0: none) */
  guint sends;               /* transport sends not completed */
  gboolean receiving;        /* a transport receive pending */
  guint strikes;             /* timeouts / STORAGE answers in a row */
  guint permille;            /* of the last progress */
  guint64 chunks;
  guint64 bytes_sent;
  guint64 resyncs;
  GError *error;             /* set: finishing with this error */
  gboolean drain;            /* finishing: still read the answers in flight */
  gboolean complete;
  gboolean returned;
};

static void
bulk_free (Bulk *b)
{
  g_clear_pointer (&b->image, g_bytes_unref);
  g_clear_pointer (&b->digest, g_bytes_unref);
  g_queue_clear_full (&b->inflight, g_free);
  g_clear_error (&b->error);
  g_free (b);
}

static void bulk_pump (GTask *task);

/* Record the transfer, report it done. */
static void
bulk_complete (GTask *task)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GError) error = NULL;
  SignetDeviceTransfer *t;

  signet_event_data_add_bytes (data, "digest", b->digest, NULL);
  signet_event_data_add_uint (data, "size", b->size, NULL);
  signet_event_data_add_uint (data, "resumed_from", b->resumed_from, NULL);
  signet_event_data_add_uint (data, "chunks", b->chunks, NULL);
  signet_event_data_add_uint (data, "bytes_sent", b->bytes_sent, NULL);
  signet_event_data_add_uint (data, "resyncs", b->resyncs, NULL);
  if (!log_event (self, "device.bulk", data, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  t = g_new0 (SignetDeviceTransfer, 1);
  t->digest = g_bytes_ref (b->digest);
  t->size = b->size;
  t->resumed_from = b->resumed_from;
  t->bytes_sent = b->bytes_sent;
  t->chunks = b->chunks;
  t->resyncs = b->resyncs;
  t->chunk_size = b->chunk;
  t->window = b->window;
  t->channel = (signet_transport_get_capabilities (self->transport)
                & SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL) != 0;
  op_done (task);
  g_task_return_pointer (task, t, (GDestroyNotify) signet_device_transfer_free);
}

/* Return the task once nothing of the link is pending any more (a late
 * completion must not land in the next step). */
static void
bulk_maybe_return (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;

  if (b->returned || b->sends > 0 || b->receiving)
    return;
  if (b->error != NULL)
    {
      if (b->drain && (b->expected > 0 || b->status_id != 0))
        return;
      b->returned = TRUE;
      op_fail (task, g_steal_pointer (&b->error));
      return;
    }
  if (b->complete)
    {
      b->returned = TRUE;
      bulk_complete (task);
    }
}

/* Finish with error. drain: the link still works, so read the answers
 * still in flight first (they would otherwise reach the next step). */
static void
bulk_fail (GTask    *task,
           GError   *error,
           gboolean  drain)
{
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;

  if (b->error != NULL || b->returned)
    {
      /* A later failure (a send the link gave up on after a receive
       * failed) may be what the first one was waiting for. */
      g_error_free (error);
      bulk_maybe_return (task);
      return;
    }
  b->error = error;
  b->drain = drain;
  bulk_pump (task);
  bulk_maybe_return (task);
}

/* The link failed: say where the transfer stands. */
static GError *
bulk_link_error (Bulk         *b,
                 const GError *transport_error)
{
  g_autoptr(GError) mapped = error_from_transport (transport_error);

  if (mapped->code == SIGNET_DEVICE_ERROR_CANCELLED)
    return g_steal_pointer (&mapped);
  return g_error_new (SIGNET_DEVICE_ERROR, mapped->code,
                      "%s. The device had acknowledged %" G_GUINT64_FORMAT " of %"
                      G_GUINT64_FORMAT " bytes of the image: transfer it again in a new "
                      "session and it resumes where the device stopped", mapped->message,
                      b->acked, b->size);
}

static void
bulk_progress (GTask *task)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  guint permille = (guint) (b->acked * 1000 / b->size);

  /* At most a thousand emissions, however many chunks. */
  if (permille != b->permille && b->acked < b->size)
    {
      b->permille = permille;
      emit_progress (self, op->step, (double) b->acked / (double) b->size);
    }
}

static void
on_bulk_sent (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  g_autoptr(GError) error = NULL;

  b->sends--;
  if (!signet_transport_send_finish (SIGNET_TRANSPORT (source), result, &error))
    {
      bulk_fail (task, bulk_link_error (b, error), FALSE);
      return;
    }
  bulk_maybe_return (task);
}

static void
bulk_send (GTask          *task,
           sp_msg_request *req)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  guint8 *buf = g_malloc (SP_MSG_MAX);
  size_t len = 0;
  sp_err err;
  g_autoptr(GBytes) msg = NULL;

  req->id = self->next_id++;
  if (self->next_id == 0)
    self->next_id = 1;
  err = sp_msg_request_encode (req, buf, SP_MSG_MAX, &len);
  if (err != SP_OK)
    {
      /* Our own sizes: a bug, but a clear failure rather than a crash. */
      g_free (buf);
      bulk_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_FAILED,
                                    "A transfer request cannot be encoded (%s)",
                                    sp_strerror (err)), TRUE);
      return;
    }
  msg = g_bytes_new_take (buf, len);
  b->sends++;
  signet_transport_send_async (self->transport, msg, g_task_get_cancellable (task),
                               on_bulk_sent, g_object_ref (task));
}

static void on_bulk_received (GObject *source, GAsyncResult *result, gpointer user_data);

/* May another chunk go? Answered chunks: window of them in flight.
 * Quiet ones: window chunks' worth of bytes past the device's offset as
 * last heard (chunks of an older generation, dropped by the device, do
 * not count). */
static gboolean
bulk_window_open (const Bulk *b)
{
  if (b->quiet)
    return b->next - b->acked < (guint64) b->window * b->chunk;
  return b->inflight.length < b->window;
}

/* Keep window chunks in flight and one receive waiting while an answer
 * is due; finish when the device holds it all. A quiet transfer asks an
 * answer of every ack_every-th chunk and of the last: whenever the
 * window is full, one of the chunks in it will be answered (window >=
 * ack_every), so a lost one shows as a refusal or a timeout. */
static void
bulk_pump (GTask *task)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;

  if (b->returned)
    return;
  while (b->error == NULL && !b->complete && b->status_id == 0
         && bulk_window_open (b) && b->next < b->size)
    {
      BulkChunk *c = g_new0 (BulkChunk, 1);
      sp_msg_request req = { .type = SP_MSG_BULK_DATA };

      c->offset = b->next;
      c->len = (guint) MIN ((guint64) b->chunk, b->size - b->next);
      c->gen = b->gen;
      c->quiet = b->quiet && c->offset + c->len < b->size && b->since_ack + 1 < b->ack_every;
      req.offset = c->offset;
      req.data.ptr = b->data + c->offset;
      req.data.len = c->len;
      req.quiet = c->quiet;
      bulk_send (task, &req);
      if (b->error != NULL)
        {
          g_free (c);
          break;
        }
      c->id = req.id;
      g_queue_push_tail (&b->inflight, c);
      b->since_ack = c->quiet ? b->since_ack + 1 : 0;
      b->expected += !c->quiet;
      b->next += c->len;
      b->chunks++;
      b->bytes_sent += c->len;
    }
  if (!b->receiving && (b->expected > 0 || b->status_id != 0)
      && (b->error == NULL || b->drain))
    {
      b->receiving = TRUE;
      signet_transport_receive_async (self->transport, g_task_get_cancellable (task),
                                      on_bulk_received, g_object_ref (task));
    }
  if (b->error == NULL && !b->complete && b->expected == 0 && b->status_id == 0
      && b->acked == b->size)
    b->complete = TRUE;
}

/* Forget the chunks in flight up to and including last (NULL: all). */
static void
bulk_forget (Bulk      *b,
             BulkChunk *last)
{
  BulkChunk *c;

  do
    {
      c = g_queue_pop_head (&b->inflight);
      if (c == NULL)
        break;
      b->expected -= !c->quiet;
      if (c != last)
        g_free (c);
    }
  while (c != last);
}

/* Ask the device where it is: after a timeout (a request or an answer
 * lost at the tail of the window) or a STORAGE answer. Whatever is in
 * flight belongs to the old generation. */
static void
bulk_ask_status (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  sp_msg_request req = { .type = SP_MSG_BULK_STATUS };

  b->gen++;
  bulk_send (task, &req);
  if (b->error == NULL)
    b->status_id = req.id;
}

/* The device is at offset: go on from there. */
static gboolean
bulk_resume_at (GTask   *task,
                guint64  offset)
{
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;

  if (offset > b->size)
    {
      bulk_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_PROTOCOL,
                                    "The device names offset %" G_GUINT64_FORMAT
                                    " of a %" G_GUINT64_FORMAT "-byte image", offset, b->size),
                 TRUE);
      return FALSE;
    }
  b->acked = offset;
  if (b->next != offset)
    {
      g_debug ("transfer: the device is at %" G_GUINT64_FORMAT ", we were at %"
               G_GUINT64_FORMAT ": resuming there", offset, b->next);
      b->next = offset;
      b->gen++;
      b->resyncs++;
    }
  return TRUE;
}

static void
bulk_answer (GTask                 *task,
             const sp_msg_response *r)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  BulkChunk *c = NULL;
  gboolean current;

  if (b->status_id != 0 && r->id == b->status_id)
    {
      /* Answers come in order: all that was in flight is answered or lost. */
      bulk_forget (b, NULL);
      b->status_id = 0;
      if (b->error != NULL)
        return;
      if (r->status == SP_MSG_OK && r->type == (SP_MSG_BULK_STATUS | SP_MSG_RESPONSE_BIT))
        {
          if (r->size != b->size || !bytes_equal (r->digest.ptr, r->digest.len, b->digest))
            {
              bulk_fail (task, g_error_new_literal (SIGNET_DEVICE_ERROR,
                                                    SIGNET_DEVICE_ERROR_NO_TRANSFER,
                                                    "The device dropped this transfer for "
                                                    "another image: start it again"), TRUE);
              return;
            }
          if (r->next_offset <= b->size)
            {
              /* Whatever was in flight is of an older generation now. */
              b->next = r->next_offset;
              b->resyncs++;
            }
          bulk_resume_at (task, r->next_offset);
          return;
        }
      bulk_fail (task, g_error_new (SIGNET_DEVICE_ERROR,
                                    status_is_known (r->status) ? (gint) r->status
                                                                : SIGNET_DEVICE_ERROR_FAILED,
                                    "transfer refused: %s (%s, status %" G_GUINT64_FORMAT ")",
                                    status_text (r->status), sp_msg_status_name (r->status),
                                    r->status), TRUE);
      return;
    }

  /* Answers come in order: the chunks before this one were lost (the
   * request or its answer) or, quiet, taken; an id we do not know is a
   * duplicate or a late answer to a finished exchange. */
  for (GList *l = b->inflight.head; l != NULL; l = l->next)
    if (((BulkChunk *) l->data)->id == r->id)
      {
        c = l->data;
        break;
      }
  if (c == NULL)
    return;
  bulk_forget (b, c);
  current = c->gen == b->gen;
  if (b->error != NULL || !current)
    {
      g_free (c);
      return;
    }

  if (r->status == SP_MSG_OK && r->type == (SP_MSG_BULK_DATA | SP_MSG_RESPONSE_BIT))
    {
      guint64 end = c->offset + c->len;

      b->strikes = 0;
      if (r->next_offset == end)
        b->acked = end;
      else
        bulk_resume_at (task, r->next_offset);
      if (b->error == NULL)
        bulk_progress (task);
    }
  else if (r->status == SP_MSG_BULK_OFFSET && r->has_next_offset)
    bulk_resume_at (task, r->next_offset);
  else if (r->status == SP_MSG_STORAGE && b->strikes < self->max_retries)
    {
      /* A flash write failed: the device says where to resume. */
      b->strikes++;
      bulk_ask_status (task);
    }
  else if (r->status == SP_MSG_DIGEST)
    bulk_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_DIGEST,
                                  "The device received all %" G_GUINT64_FORMAT " bytes but "
                                  "their SHA-256 is not the image's (it starts over): was the "
                                  "image changed during the transfer?", b->size), TRUE);
  else if (r->status != SP_MSG_OK)
    bulk_fail (task, g_error_new (SIGNET_DEVICE_ERROR,
                                  status_is_known (r->status) ? (gint) r->status
                                                              : SIGNET_DEVICE_ERROR_FAILED,
                                  "transfer refused at byte %" G_GUINT64_FORMAT ": %s (%s, "
                                  "status %" G_GUINT64_FORMAT ")", c->offset,
                                  status_text (r->status), sp_msg_status_name (r->status),
                                  r->status), TRUE);
  else
    bulk_fail (task, g_error_new_literal (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_PROTOCOL,
                                          "The device answered a transfer request with a "
                                          "message of another type"), TRUE);
  g_free (c);
}

static void
on_bulk_received (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response r;
  gsize len;
  const guint8 *p;

  b->receiving = FALSE;
  raw = signet_transport_receive_finish (SIGNET_TRANSPORT (source), result, &error);
  if (raw == NULL)
    {
      if (b->error != NULL)
        {
          /* Draining: what did not come is lost; stop there. */
          b->drain = FALSE;
          bulk_maybe_return (task);
          return;
        }
      if (g_error_matches (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TIMEOUT)
          && b->strikes < self->max_retries)
        {
          b->strikes++;
          g_debug ("transfer: no answer at %" G_GUINT64_FORMAT ", asking where the device is"
                   " (%u)", b->acked, b->strikes);
          bulk_ask_status (task);
          bulk_pump (task);
          bulk_maybe_return (task);
          return;
        }
      bulk_fail (task, bulk_link_error (b, error), FALSE);
      return;
    }
  p = g_bytes_get_data (raw, &len);
  memset (&r, 0, sizeof r);
  if (sp_msg_response_decode (p, len, &r) != SP_OK)
    {
      if (b->error == NULL)
        bulk_fail (task, g_error_new_literal (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_PROTOCOL,
                                              "The device answered the transfer with something "
                                              "that is not a protocol message"), TRUE);
      bulk_pump (task);
      bulk_maybe_return (task);
      return;
    }
  bulk_answer (task, &r);
  bulk_pump (task);
  bulk_maybe_return (task);
}

static void
handle_bulk_begin (GTask *task,
                   Op    *op)
{
  Bulk *b = op->bulk;

  if (!op->resp.has_next_offset || op->resp.next_offset > b->size)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_PROTOCOL,
                       "The device answered BULK_BEGIN without a valid offset");
      return;
    }
  b->resumed_from = b->acked = b->next = op->resp.next_offset;
  b->permille = G_MAXUINT;
  bulk_progress (task);
  g_debug ("transfer: %" G_GUINT64_FORMAT " bytes from %" G_GUINT64_FORMAT ", %u per chunk, "
           "%u in flight", b->size, b->resumed_from, b->chunk, b->window);
  /* The pending operations hold the task from here. */
  bulk_pump (task);
  bulk_maybe_return (task);
}

static void
hash_image_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  g_task_return_pointer (task, signet_sha256 (task_data), (GDestroyNotify) g_bytes_unref);
}

static void
on_image_hashed (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  SignetDeviceSession *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  Bulk *b = op->bulk;
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) digest = NULL;
  guint8 args[64];
  size_t args_len = 0;
  sp_msg_request req = { .type = SP_MSG_BULK_BEGIN };
  sp_err err;

  digest = g_task_propagate_pointer (G_TASK (result), NULL);
  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_CANCELLED, "Cancelled");
      g_object_unref (task);
      return;
    }
  b->digest = g_bytes_ref (digest);
  err = sp_msg_bulk_args_encode (g_bytes_get_data (digest, NULL), b->size, args, sizeof args,
                                 &args_len);
  if (err == SP_OK)
    op->command = build_command (self, SP_MSG_OP_BULK_BEGIN, args, args_len, &op->seq, &error);
  else
    error = g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_FAILED,
                         "The transfer cannot be encoded (%s)", sp_strerror (err));
  if (op->command == NULL)
    {
      op_fail (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  {
    g_autoptr(GBytes) command_digest = signet_sha256 (op->command);

    signet_event_data_add_uint (data, "seq", op->seq, NULL);
    signet_event_data_add_bytes (data, "command_digest", command_digest, NULL);
    signet_event_data_add_bytes (data, "digest", digest, NULL);
    signet_event_data_add_uint (data, "size", b->size, NULL);
  }
  if (!log_event (self, "device.bulk_begin", data, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  req.command.ptr = g_bytes_get_data (op->command, &req.command.len);
  exchange (task, &req);
}

/* Up to 64 MiB: hashed off the main loop; then BULK_BEGIN. */
static void
transfer_hash (GTask *task)
{
  Op *op = g_task_get_task_data (task);
  GTask *hash = g_task_new (g_task_get_source_object (task), NULL, on_image_hashed, task);

  g_task_set_task_data (hash, g_bytes_ref (op->bulk->image), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (hash, hash_image_thread);
  g_object_unref (hash);
}

static void
on_bulk_channel (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (!signet_transport_open_channel_finish (SIGNET_TRANSPORT (source), result, &error))
    {
      if (g_error_matches (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CANCELLED))
        {
          op_fail_literal (task, SIGNET_DEVICE_ERROR_CANCELLED, "Cancelled");
          g_object_unref (task);
          return;
        }
      /* Not fatal: the same transfer goes over the main link. */
      g_debug ("transfer: the device's bulk channel (PSM %u) did not open, using the main "
               "link: %s", self->info->bulk_psm, error->message);
    }
  else
    g_debug ("transfer: over the device's bulk channel (PSM %u)", self->info->bulk_psm);
  transfer_hash (task);
}

void
signet_device_session_transfer_async (SignetDeviceSession *self,
                                      GBytes              *image,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  GTask *task;
  Op *op;
  Bulk *b;
  GError *error = NULL;
  guint max_message;

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (image != NULL);

  task = op_begin (self, "transfer", handle_bulk_begin, signet_device_session_transfer_async,
                   cancellable, callback, user_data);
  if (task == NULL)
    return;
  op = g_task_get_task_data (task);
  op->bulk = b = g_new0 (Bulk, 1);
  g_queue_init (&b->inflight);
  b->image = g_bytes_ref (image);
  b->data = g_bytes_get_data (image, NULL);
  b->size = g_bytes_get_size (image);
  if (!check_ready (self, TRUE, TRUE, &error))
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  if ((self->info->capabilities & SP_MSG_CAP_BULK) == 0)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_UNSUPPORTED,
                                  "Device %s does not take firmware images (it has no bulk "
                                  "transfer)", self->info->serial));
      g_object_unref (task);
      return;
    }
  if (b->size == 0 || b->size > SP_MSG_BULK_MAX)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                                  "A firmware image has 1 to %u bytes; this one has %"
                                  G_GUINT64_FORMAT, SP_MSG_BULK_MAX, b->size));
      g_object_unref (task);
      return;
    }
  /* The largest chunk the protocol, the device and the link allow. */
  max_message = MIN (signet_transport_get_max_message (self->transport), SP_MSG_MAX);
  if (self->info->max_message != 0 && self->info->max_message < max_message)
    max_message = (guint) self->info->max_message;
  if (max_message <= BULK_DATA_OVERHEAD)
    {
      op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_TOO_LARGE,
                                  "The device takes messages of %u bytes: too small for a "
                                  "transfer", max_message));
      g_object_unref (task);
      return;
    }
  b->chunk = MIN (SP_MSG_BULK_CHUNK_MAX, max_message - BULK_DATA_OVERHEAD);
  b->window = (signet_transport_get_capabilities (self->transport)
               & SIGNET_TRANSPORT_CAPABILITY_PIPELINE) != 0 ? self->bulk_window : 1;
  /* Quiet chunks where the device takes them and the link pipelines:
   * an answer per BULK_ACK_DIVISOR-th of the window. */
  b->quiet = b->window > 1 && (self->info->capabilities & SP_MSG_CAP_BULK_QUIET) != 0;
  b->ack_every = b->quiet ? MAX (1u, b->window / BULK_ACK_DIVISOR) : 1;

  /* The device's bulk channel first, where it offers one the link can
   * open (BLE: its L2CAP PSM); GATT otherwise. */
  if (self->info->bulk_psm != 0 && !self->channel_tried
      && (signet_transport_get_capabilities (self->transport)
          & SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL) == 0)
    {
      self->channel_tried = TRUE;
      signet_transport_open_channel_async (self->transport, self->info->bulk_psm, cancellable,
                                           on_bulk_channel, task);
      return;
    }
  transfer_hash (task);
}

SignetDeviceTransfer *
signet_device_session_transfer_finish (SignetDeviceSession *self,
                                       GAsyncResult        *result,
                                       GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- COMMIT, ROLLBACK, a given command ------------------------------------ */

static void
command_step (SignetDeviceSession *self,
              const char          *step,
              guint                cmd_op,
              GBytes              *command,
              gpointer             source_tag,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task;
  Op *op;
  GError *error = NULL;
  guint8 args[16];
  size_t args_len = 0;
  sp_err err;

  task = op_begin (self, step, handle_receipt, source_tag, cancellable, callback, user_data);
  if (task == NULL)
    return;
  op = g_task_get_task_data (task);
  op->cmd_op = cmd_op;
  if (!check_ready (self, TRUE, command == NULL, &error))
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  if (command != NULL)
    {
      sp_cbor_item items[SP_MSG_DEVICE_ITEMS];
      sp_msg_command cmd;

      /* Only to know which receipt to expect: the device judges it. */
      err = sp_msg_command_decode (g_bytes_get_data (command, NULL), g_bytes_get_size (command),
                                   items, G_N_ELEMENTS (items), &cmd, &(sp_cose_sign1) { 0 });
      if (err != SP_OK)
        {
          op_fail (task, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE,
                                      "Not a signed command (%s)", sp_strerror (err)));
          g_object_unref (task);
          return;
        }
      op->seq = cmd.seq;
      op->command = g_bytes_ref (command);
      send_command (task, op, NULL, 0, 0, NULL);
      return;
    }
  if (cmd_op == SP_MSG_OP_COMMIT)
    {
      op->version = self->pending != 0 ? self->pending : self->info->config_version + 1;
      err = sp_msg_commit_args_encode (op->version, args, sizeof args, &args_len);
    }
  else
    err = sp_msg_rollback_args_encode (args, sizeof args, &args_len);
  if (err == SP_OK)
    op->command = build_command (self, cmd_op, args, args_len, &op->seq, &error);
  else
    error = g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_FAILED,
                         "The command cannot be encoded (%s)", sp_strerror (err));
  if (op->command == NULL)
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  send_command (task, op, NULL, 0, 0, NULL);
}

void
signet_device_session_commit_async (SignetDeviceSession *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  command_step (self, "commit", SP_MSG_OP_COMMIT, NULL, signet_device_session_commit_async,
                cancellable, callback, user_data);
}

SignetDeviceReceipt *
signet_device_session_commit_finish (SignetDeviceSession *self,
                                     GAsyncResult        *result,
                                     GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
signet_device_session_rollback_async (SignetDeviceSession *self,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  command_step (self, "rollback", SP_MSG_OP_ROLLBACK, NULL,
                signet_device_session_rollback_async, cancellable, callback, user_data);
}

SignetDeviceReceipt *
signet_device_session_rollback_finish (SignetDeviceSession *self,
                                       GAsyncResult        *result,
                                       GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
signet_device_session_send_command_async (SignetDeviceSession *self,
                                          guint                op,
                                          GBytes              *command,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  g_return_if_fail (op >= SP_MSG_OP_APPLY && op <= SP_MSG_OP_ROLLBACK);
  g_return_if_fail (command != NULL);
  command_step (self, "command", op, command, signet_device_session_send_command_async,
                cancellable, callback, user_data);
}

SignetDeviceReceipt *
signet_device_session_send_command_finish (SignetDeviceSession *self,
                                           GAsyncResult        *result,
                                           GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- READ, BYE ------------------------------------------------------------ */

static void
handle_read (GTask *task,
             Op    *op)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  sp_msg_cursor c;
  sp_msg_value k, v;

  if (sp_msg_cursor_init_bytes (&c, op->resp.config, SP_CBOR_MAP) != SP_OK)
    {
      op_fail_literal (task, SIGNET_DEVICE_ERROR_PROTOCOL, "The device's READ is malformed");
      return;
    }
  while (sp_msg_cursor_next_pair (&c, &k, &v))
    {
      g_autofree char *key = NULL;
      gint64 n;

      if (k.type != SP_CBOR_TEXT || !g_utf8_validate ((const char *) k.ptr, (gssize) k.u, NULL))
        continue;
      key = g_strndup ((const char *) k.ptr, k.u);
      if (v.type == SP_CBOR_TEXT && g_utf8_validate ((const char *) v.ptr, (gssize) v.u, NULL))
        {
          g_autofree char *s = g_strndup ((const char *) v.ptr, v.u);

          g_variant_builder_add (&b, "{sv}", key, g_variant_new_string (s));
        }
      else if (v.type == SP_CBOR_BOOL)
        g_variant_builder_add (&b, "{sv}", key, g_variant_new_boolean (v.u != 0));
      else if (sp_msg_value_int (&v, &n))
        g_variant_builder_add (&b, "{sv}", key, g_variant_new_int64 (n));
    }
  op_done (task);
  g_task_return_pointer (task, g_variant_ref_sink (g_variant_builder_end (&b)),
                         (GDestroyNotify) g_variant_unref);
}

void
signet_device_session_read_async (SignetDeviceSession *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task;
  GError *error = NULL;
  sp_msg_request req = { .type = SP_MSG_READ };

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  task = op_begin (self, "read", handle_read, signet_device_session_read_async, cancellable,
                   callback, user_data);
  if (task == NULL)
    return;
  if (!check_ready (self, FALSE, TRUE, &error))
    {
      op_fail (task, error);
      g_object_unref (task);
      return;
    }
  exchange (task, &req);
}

GVariant *
signet_device_session_read_finish (SignetDeviceSession *self,
                                   GAsyncResult        *result,
                                   GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
handle_bye (GTask *task,
            Op    *op)
{
  SignetDeviceSession *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  (void) op;
  self->authorized = FALSE;
  self->attested = FALSE;
  if (!log_event (self, "device.bye", NULL, &error))
    {
      op_fail (task, g_steal_pointer (&error));
      return;
    }
  op_done (task);
  g_task_return_boolean (task, TRUE);
}

void
signet_device_session_bye_async (SignetDeviceSession *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  sp_msg_request req = { .type = SP_MSG_BYE };

  g_return_if_fail (SIGNET_IS_DEVICE_SESSION (self));
  task = op_begin (self, "bye", handle_bye, signet_device_session_bye_async, cancellable,
                   callback, user_data);
  if (task != NULL)
    exchange (task, &req);
}

gboolean
signet_device_session_bye_finish (SignetDeviceSession *self,
                                  GAsyncResult        *result,
                                  GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
