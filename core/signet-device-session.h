/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-session.h: the device session engine (DESIGN.md §3
 * "Device session", docs/protocol.md; docs/engine.md is its manual).
 *
 * A SignetDeviceSession speaks the device protocol over an opened
 * SignetTransport on behalf of a signed-in SignetServiceSession: HELLO,
 * ATTEST (verified here against the manufacturer CAs and the revocation
 * list of the service's trust document), REVOCATION, AUTHORIZE, APPLY of
 * a profile (secret fields sealed by the service), bulk transfer of a
 * firmware image and APPLY of it, COMMIT, ROLLBACK, READ and BYE. Every
 * step is an _async/_finish pair on a GTask with a GCancellable, reports
 * "progress" (step name, fraction), records what it did in the event log
 * when one is given, and fails with a GError of the SIGNET_DEVICE_ERROR
 * domain -- except that a refusal or failure of the token service (sealing
 * a secret) keeps its SIGNET_SERVICE_ERROR domain and code (STEP_UP_REQUIRED,
 * UNAUTHORIZED, FORBIDDEN, UNREACHABLE...). Use a session from the thread
 * that made it, one step at a time.
 *
 * Every request gets a fresh id; after a transport timeout the same bytes
 * (same id) are sent again, up to max-retries times: the device answers a
 * retry from its cache without acting twice (docs/protocol.md "Retries").
 */
#pragma once

#include <gio/gio.h>

#include "signet-eventlog.h"
#include "signet-service-client.h"
#include "signet-transport.h"

G_BEGIN_DECLS

#define SIGNET_DEVICE_ERROR (signet_device_error_quark ())
GQuark signet_device_error_quark (void);

/* Codes 1..30 are the device's status codes of docs/protocol.md, with the
 * same numbers; codes from 100 are failures found on this side. */
typedef enum {
  SIGNET_DEVICE_ERROR_MALFORMED = 1,
  SIGNET_DEVICE_ERROR_UNSUPPORTED = 2,
  SIGNET_DEVICE_ERROR_TOO_LARGE = 3,
  SIGNET_DEVICE_ERROR_BAD_STATE = 4,
  SIGNET_DEVICE_ERROR_TOKEN_MALFORMED = 5,
  SIGNET_DEVICE_ERROR_TOKEN_SIGNATURE = 6,
  SIGNET_DEVICE_ERROR_TOKEN_EXPIRED = 7,
  SIGNET_DEVICE_ERROR_TOKEN_NOT_YET_VALID = 8,
  SIGNET_DEVICE_ERROR_TOKEN_AUDIENCE = 9,
  SIGNET_DEVICE_ERROR_TOKEN_REVOKED = 10,
  SIGNET_DEVICE_ERROR_COMMAND_SIGNATURE = 11,
  SIGNET_DEVICE_ERROR_WRONG_TOKEN = 12,
  SIGNET_DEVICE_ERROR_WRONG_DEVICE = 13,
  SIGNET_DEVICE_ERROR_WRONG_NONCE = 14,
  SIGNET_DEVICE_ERROR_REPLAY = 15,
  SIGNET_DEVICE_ERROR_SCOPE = 16,
  SIGNET_DEVICE_ERROR_VERSION_ROLLBACK = 17,
  SIGNET_DEVICE_ERROR_SCHEMA = 18,
  SIGNET_DEVICE_ERROR_STEP_UP = 19,
  SIGNET_DEVICE_ERROR_DIGEST = 20,
  SIGNET_DEVICE_ERROR_SEAL = 21,
  SIGNET_DEVICE_ERROR_HEALTH = 22,
  SIGNET_DEVICE_ERROR_STORAGE = 23,
  SIGNET_DEVICE_ERROR_REVOCATION_STALE = 24,
  SIGNET_DEVICE_ERROR_BULK_OFFSET = 25,
  SIGNET_DEVICE_ERROR_NO_TRANSFER = 30,
  /* local */
  SIGNET_DEVICE_ERROR_FAILED = 100,        /* an unknown status, or our own failure */
  SIGNET_DEVICE_ERROR_PROTOCOL,            /* the device answered something not of the spec */
  SIGNET_DEVICE_ERROR_TIMEOUT,             /* no answer, retries included */
  SIGNET_DEVICE_ERROR_DISCONNECTED,        /* the link went away or is closed */
  SIGNET_DEVICE_ERROR_TRANSPORT,           /* another failure of the link */
  SIGNET_DEVICE_ERROR_CANCELLED,
  SIGNET_DEVICE_ERROR_NOT_READY,           /* a step out of order (apply before attest...) */
  SIGNET_DEVICE_ERROR_UNTRUSTED,           /* the chain does not verify to a manufacturer CA */
  SIGNET_DEVICE_ERROR_REVOKED,             /* the device serial is revoked */
  SIGNET_DEVICE_ERROR_BAD_EVIDENCE,        /* evidence: bad signature, not our challenge or
                                            * nonce, not the device HELLO named */
  SIGNET_DEVICE_ERROR_BAD_RECEIPT,         /* a receipt that does not verify or match */
  SIGNET_DEVICE_ERROR_INVALID_VALUE,       /* a value the profile does not allow */
  SIGNET_DEVICE_ERROR_BAD_PROFILE,         /* a profile not for this device or not signed */
  SIGNET_DEVICE_ERROR_SERVICE,             /* the service gave something unusable (a token
                                            * that cannot be read); its refusals keep
                                            * their own domain */
  SIGNET_DEVICE_ERROR_EVENT_LOG,           /* the event log could not record the step */
} SignetDeviceError;

#define SIGNET_DEVICE_SESSION_MAX_RETRIES_DEFAULT 2
/* BULK_DATA requests in flight at once (docs/engine.md "Bulk transfer"). */
#define SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT 16
#define SIGNET_DEVICE_SESSION_BULK_WINDOW_MAX 32

/* What HELLO said. */
typedef struct {
  char *serial;
  char *model;
  char *firmware;
  guint64 config_version;
  guint64 capabilities;
  guint64 device_time;
  gboolean clock;
  guint64 max_message;
  guint64 revocation_version;
  guint16 bulk_psm;         /* the L2CAP channel it offers for bulk transfer, 0: none */
} SignetDeviceInfo;

void              signet_device_info_free (SignetDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetDeviceInfo, signet_device_info_free)

/* A verified receipt of APPLY, COMMIT or ROLLBACK, with the command it
 * answers. */
typedef struct {
  guint op;                 /* 1 apply, 2 commit, 3 rollback */
  guint64 seq;
  guint64 committed_version;
  guint64 pending_version;  /* 0: nothing pending */
  guint64 device_time;
  GBytes *config_digest;    /* 32 bytes */
  GBytes *command;          /* the signed command (COSE_Sign1) as sent */
  GBytes *command_digest;   /* SHA-256 of command */
  GBytes *receipt;          /* the signed receipt, as received */
} SignetDeviceReceipt;

void              signet_device_receipt_free (SignetDeviceReceipt *receipt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetDeviceReceipt, signet_device_receipt_free)

/* What a completed bulk transfer did. */
typedef struct {
  GBytes *digest;           /* SHA-256 of the image (32 bytes): APPLY's firmware digest */
  guint64 size;
  guint64 resumed_from;     /* the device's offset at BULK_BEGIN: 0 for a fresh transfer,
                             * size when it already held the whole image */
  guint64 bytes_sent;       /* data bytes sent by this call, resent ones included */
  guint64 chunks;           /* BULK_DATA requests sent, resent ones included */
  guint64 resyncs;          /* times the device named another offset and we resumed there */
  guint chunk_size;         /* data bytes of a full BULK_DATA */
  guint window;             /* BULK_DATA requests kept in flight */
  gboolean channel;         /* sent over the link's bulk channel (BLE: L2CAP) */
} SignetDeviceTransfer;

void              signet_device_transfer_free (SignetDeviceTransfer *transfer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetDeviceTransfer, signet_device_transfer_free)

#define SIGNET_TYPE_DEVICE_SESSION (signet_device_session_get_type ())
G_DECLARE_FINAL_TYPE (SignetDeviceSession, signet_device_session, SIGNET, DEVICE_SESSION, GObject)

/* transport must be open; session (nullable): without one, HELLO, ATTEST,
 * REVOCATION work (attesting needs no sign-in) and
 * AUTHORIZE fails with NOT_READY; trust is copied (what is needed of it);
 * log (nullable) receives the session's events.
 * Signal "progress" (const char *step, double fraction 0..1).
 * Returns: (transfer full) */
SignetDeviceSession *signet_device_session_new (SignetTransport      *transport,
                                                SignetServiceClient  *client,
                                                SignetServiceSession *session,
                                                const SignetServiceTrust *trust,
                                                SignetEventLog       *log);

/* Retries of a request after a transport timeout (0..10). */
void     signet_device_session_set_max_retries (SignetDeviceSession *self,
                                                guint                retries);

/* BULK_DATA requests kept in flight (1..SIGNET_DEVICE_SESSION_BULK_WINDOW_MAX;
 * 1 is stop-and-wait). A transport without the PIPELINE capability gets 1
 * whatever this says. */
void     signet_device_session_set_bulk_window (SignetDeviceSession *self,
                                                guint                window);

/* Let the session go on over another transport (open): the device came
 * back after a reset or a replug, maybe at another path. Nothing of the
 * device session survives (HELLO first); what the last one left in doubt
 * (an APPLY or COMMIT whose answer never came) is kept, and the next
 * HELLO records what became of it (device.recovery, docs/engine.md). */
void     signet_device_session_set_transport (SignetDeviceSession *self,
                                              SignetTransport     *transport);

/* After hello. Returns: (transfer none) (nullable) */
const SignetDeviceInfo *signet_device_session_get_info (SignetDeviceSession *self);
/* After attest: SHA-256 (hex) of the leaf certificate. (nullable) */
const char *signet_device_session_get_cert_fingerprint (SignetDeviceSession *self);
/* The session nonce of the last HELLO. Returns: (transfer full) (nullable) */
GBytes     *signet_device_session_dup_nonce (SignetDeviceSession *self);

void      signet_device_session_hello_async (SignetDeviceSession *self, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
gboolean  signet_device_session_hello_finish (SignetDeviceSession *self, GAsyncResult *result,
                                              GError **error);

/* ATTEST with a fresh challenge; verifies everything (see docs/engine.md). */
void      signet_device_session_attest_async (SignetDeviceSession *self, GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
gboolean  signet_device_session_attest_finish (SignetDeviceSession *self, GAsyncResult *result,
                                               GError **error);

/* REVOCATION with the trust document's list; the version the device holds. */
void      signet_device_session_push_revocation_async (SignetDeviceSession *self,
                                                       GCancellable *cancellable,
                                                       GAsyncReadyCallback callback,
                                                       gpointer user_data);
gboolean  signet_device_session_push_revocation_finish (SignetDeviceSession *self,
                                                        GAsyncResult *result,
                                                        guint64 *out_version,
                                                        GError **error);

/* AUTHORIZE with the service session's current token. */
void      signet_device_session_authorize_async (SignetDeviceSession *self,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer user_data);
gboolean  signet_device_session_authorize_finish (SignetDeviceSession *self,
                                                  GAsyncResult *result, GError **error);

/* Check values (a{sv}: s, integers, b; (transfer none), floating taken)
 * against profile's non-secret fields, without sending anything.
 * SIGNET_DEVICE_ERROR_INVALID_VALUE or _BAD_PROFILE. */
gboolean  signet_device_session_validate (SignetDeviceSession        *self,
                                          const SignetServiceProfile *profile,
                                          GVariant                   *values,
                                          GError                    **error);

/* Plan and APPLY: validate values, have the service seal every secret
 * field of profile to this device, sign the command, send it with the
 * sealed entries and verify the receipt (pending = committed + 1). */
void      signet_device_session_apply_async (SignetDeviceSession        *self,
                                             const SignetServiceProfile *profile,
                                             GVariant                   *values,
                                             GCancellable               *cancellable,
                                             GAsyncReadyCallback         callback,
                                             gpointer                    user_data);
/* Returns: (transfer full) (nullable) */
SignetDeviceReceipt *signet_device_session_apply_finish (SignetDeviceSession *self,
                                                         GAsyncResult *result, GError **error);

/* APPLY of a firmware image that a transfer completed: as apply, with
 * firmware_digest (32 bytes, SignetDeviceTransfer.digest) in the command's
 * args. The profile is usually of class "firmware" and values must set at
 * least one key of it (a device refuses an APPLY that sets nothing). The
 * change is staged and then committed or rolled back like any other. */
void      signet_device_session_apply_firmware_async (SignetDeviceSession        *self,
                                                      const SignetServiceProfile *profile,
                                                      GVariant                   *values,
                                                      GBytes                     *firmware_digest,
                                                      GCancellable               *cancellable,
                                                      GAsyncReadyCallback         callback,
                                                      gpointer                    user_data);
/* Returns: (transfer full) (nullable) */
SignetDeviceReceipt *signet_device_session_apply_firmware_finish (SignetDeviceSession *self,
                                                                  GAsyncResult        *result,
                                                                  GError             **error);

/* Bulk transfer of a firmware image (1..SP_MSG_BULK_MAX bytes; a
 * GMappedFile's bytes do not read the file into memory): SHA-256 in a
 * worker thread, BULK_BEGIN (a signed command, firmware.update), then
 * BULK_DATA from the device's offset (a transfer it already holds
 * resumes), window requests in flight; after a lost frame or a timeout it
 * resumes where the device says (BULK_OFFSET, BULK_STATUS). "progress"
 * ("transfer", bytes the device acknowledged / size). A link that drops
 * fails with DISCONNECTED: open a new session (hello, attest, authorize)
 * and transfer the same image again, which resumes. image: (transfer none) */
void      signet_device_session_transfer_async (SignetDeviceSession *self,
                                                GBytes              *image,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
/* Returns: (transfer full) (nullable) */
SignetDeviceTransfer *signet_device_session_transfer_finish (SignetDeviceSession *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

void      signet_device_session_commit_async (SignetDeviceSession *self, GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data);
SignetDeviceReceipt *signet_device_session_commit_finish (SignetDeviceSession *self,
                                                          GAsyncResult *result, GError **error);

void      signet_device_session_rollback_async (SignetDeviceSession *self,
                                                GCancellable *cancellable,
                                                GAsyncReadyCallback callback, gpointer user_data);
SignetDeviceReceipt *signet_device_session_rollback_finish (SignetDeviceSession *self,
                                                            GAsyncResult *result,
                                                            GError **error);

/* Send an already signed command of op (1 apply with no sealed entries,
 * 2 commit, 3 rollback) as it is -- to re-send one, or to check that a
 * device refuses one meant for another -- and verify the receipt against
 * it. */
void      signet_device_session_send_command_async (SignetDeviceSession *self, guint op,
                                                    GBytes *command, GCancellable *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer user_data);
SignetDeviceReceipt *signet_device_session_send_command_finish (SignetDeviceSession *self,
                                                                GAsyncResult *result,
                                                                GError **error);

/* READ: the committed configuration without secrets, as a{sv}
 * (s, x, b). Returns: (transfer full) (nullable) */
void      signet_device_session_read_async (SignetDeviceSession *self, GCancellable *cancellable,
                                            GAsyncReadyCallback callback, gpointer user_data);
GVariant *signet_device_session_read_finish (SignetDeviceSession *self, GAsyncResult *result,
                                             GError **error);

void      signet_device_session_bye_async (SignetDeviceSession *self, GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data);
gboolean  signet_device_session_bye_finish (SignetDeviceSession *self, GAsyncResult *result,
                                            GError **error);

G_END_DECLS
