/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog.h: the tamper-evident event log (DESIGN §6,
 * docs/eventlog.md is the format's specification).
 *
 * One append-only file per service session: a CBOR sequence of records
 *
 *     [seq, time_ms, type, actor, device, data, prev_hash]
 *
 * chained by SHA-256 and sealed every N records (and at the end) by an
 * HMAC under a key that evolves after each seal and is wiped, so whoever
 * takes the machine later cannot rewrite what was sealed before.
 *
 * Four parts:
 *
 *  - SignetEventData: a small builder for a record's data map; it sorts
 *    the keys, so callers need not know CBOR's deterministic order.
 *  - SignetEventLog: the writer. Each append is on stable storage
 *    (write + fdatasync) before it returns.
 *  - SignetEventLogVerifier / SignetEventLogResult: one-pass verification
 *    with K_0, fed whole or in segments, naming the first record that
 *    fails and why.
 *  - SignetEventLogReader, export to JSON and CSV: reading without
 *    verifying, for timelines and export. A reader shows what a log
 *    says, never whether it is genuine: verify first.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SIGNET_EVENT_LOG_ERROR (signet_event_log_error_quark ())
GQuark signet_event_log_error_quark (void);

typedef enum {
  SIGNET_EVENT_LOG_ERROR_FAILED,     /* the crypto library failed (not the input's fault) */
  SIGNET_EVENT_LOG_ERROR_IO,         /* creating, writing or syncing the file failed */
  SIGNET_EVENT_LOG_ERROR_INVALID,    /* a bad type name, data map, key or argument */
  SIGNET_EVENT_LOG_ERROR_TOO_LARGE,  /* the record would exceed SIGNET_EVENT_LOG_MAX_RECORD */
  SIGNET_EVENT_LOG_ERROR_CLOSED,     /* the session was closed: nothing may follow */
  SIGNET_EVENT_LOG_ERROR_BROKEN,     /* an earlier write failed: the log takes nothing more */
  SIGNET_EVENT_LOG_ERROR_MALFORMED,  /* (reader) bytes that are not a well-formed record */
  SIGNET_EVENT_LOG_ERROR_REJECTED,   /* (verifier) a record failed verification */
} SignetEventLogError;

#define SIGNET_EVENT_LOG_FORMAT_VERSION 1
#define SIGNET_EVENT_LOG_KEY_LEN 32
#define SIGNET_EVENT_LOG_HASH_LEN 32
/* The largest record, whole (its CBOR encoding), in bytes. */
#define SIGNET_EVENT_LOG_MAX_RECORD 65536
#define SIGNET_EVENT_LOG_DEFAULT_SEAL_INTERVAL 64
#define SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL 65536

/* Record types with a meaning to the log itself. */
#define SIGNET_EVENT_TYPE_SESSION_START "session.start"
#define SIGNET_EVENT_TYPE_SESSION_END "session.end"
#define SIGNET_EVENT_TYPE_SEAL "seal"

/* ---- data maps ---------------------------------------------------------- */

/* A record's data: a map with text keys, built in any order and encoded
 * deterministically. Never put a secret in it: add_digest records a
 * secret's SHA-256 instead. */
typedef struct _SignetEventData SignetEventData;

SignetEventData *signet_event_data_new        (void);
void             signet_event_data_free       (SignetEventData *data);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetEventData, signet_event_data_free)

/* Each add_* fails (FALSE, error INVALID) for a key that is not UTF-8, is
 * empty or longer than 256 bytes, or is already in the map; text values
 * must be UTF-8. */
gboolean signet_event_data_add_text   (SignetEventData *data,
                                       const char      *key,
                                       const char      *value,
                                       GError         **error);
gboolean signet_event_data_add_int    (SignetEventData *data,
                                       const char      *key,
                                       gint64           value,
                                       GError         **error);
gboolean signet_event_data_add_uint   (SignetEventData *data,
                                       const char      *key,
                                       guint64          value,
                                       GError         **error);
gboolean signet_event_data_add_bool   (SignetEventData *data,
                                       const char      *key,
                                       gboolean         value,
                                       GError         **error);
gboolean signet_event_data_add_null   (SignetEventData *data,
                                       const char      *key,
                                       GError         **error);
/* A byte string (a device receipt or a token, stored whole so that a
 * reviewer can re-check its signature). */
gboolean signet_event_data_add_bytes  (SignetEventData *data,
                                       const char      *key,
                                       GBytes          *value,
                                       GError         **error);
/* An already encoded CBOR item (an array, a nested map), checked by the
 * same rules as a record's data: deterministic, text map keys, no tags. */
gboolean signet_event_data_add_cbor   (SignetEventData *data,
                                       const char      *key,
                                       GBytes          *cbor,
                                       GError         **error);
/* The secret's SHA-256 (a 32-byte byte string) in place of the secret, so
 * the log can show that a value was set and which, without holding it.
 * SHA-256 of a guessable secret (a short password) can be guessed back
 * from the log: prefer the digest of its sealed (HPKE) form, which is
 * what the service records too. The secret is not kept. */
gboolean signet_event_data_add_digest (SignetEventData *data,
                                       const char      *key,
                                       GBytes          *secret,
                                       GError         **error);

/* The deterministic encoding of the map. Returns: (transfer full) */
GBytes  *signet_event_data_encode     (SignetEventData *data);

/* ---- the writer --------------------------------------------------------- */

/* Milliseconds since the Unix epoch. */
typedef guint64 (*SignetEventLogClockFunc) (gpointer user_data);

typedef struct {
  guint seal_interval;             /* records per epoch; 0: the default (64) */
  SignetEventLogClockFunc clock;   /* NULL: the system's real-time clock */
  gpointer clock_data;
} SignetEventLogOptions;

#define SIGNET_TYPE_EVENT_LOG (signet_event_log_get_type ())
G_DECLARE_FINAL_TYPE (SignetEventLog, signet_event_log, SIGNET, EVENT_LOG, GObject)

/* Create path (O_CREAT | O_EXCL, mode 0600: an existing file is never
 * reused) and write record 0, "session.start", to stable storage. k0 is
 * the 32-byte K_0 from the service; it is copied and the copy is wiped as
 * the key evolves. actor names who writes (a user or a service); options
 * may be NULL. If record 0 cannot be written the file is removed.
 * Returns: (transfer full) (nullable) */
SignetEventLog *signet_event_log_create          (const char                  *path,
                                                  GBytes                      *k0,
                                                  const char                  *actor,
                                                  const char                  *session_id,
                                                  const SignetEventLogOptions *options,
                                                  GError                     **error);

/* The same log kept in memory (tests, tools, benchmarks, the service
 * building a log it stores elsewhere); see dup_contents.
 * Returns: (transfer full) (nullable) */
SignetEventLog *signet_event_log_new_in_memory   (GBytes                      *k0,
                                                  const char                  *actor,
                                                  const char                  *session_id,
                                                  const SignetEventLogOptions *options,
                                                  GError                     **error);

/* Append one record and, when its epoch is full, the seal after it; both
 * are on stable storage when this returns TRUE, and only then may the
 * caller report the step as done. type is a dotted name
 * ("device.apply"; [a-z0-9_-] segments, at most 64 bytes) other than the
 * three the log itself writes; device may be NULL; data may be NULL (an
 * empty map).
 *
 * A failed write is rolled back (the file is truncated to its previous
 * length, so it never ends in a half record) and makes the log BROKEN:
 * every later call fails, since a log with a hole must not go on as if
 * it had none. A record that is too large or invalid is refused without
 * breaking the log. */
gboolean        signet_event_log_append          (SignetEventLog   *self,
                                                  const char       *type,
                                                  const char       *device,
                                                  SignetEventData  *data,
                                                  GError          **error);

/* The same with data as an encoded CBOR map (checked as add_cbor does). */
gboolean        signet_event_log_append_cbor     (SignetEventLog   *self,
                                                  const char       *type,
                                                  const char       *device,
                                                  GBytes           *data_map,
                                                  GError          **error);

/* Group commit (signetd): with defer on, append and seal write their
 * bytes but leave them to signet_event_log_sync(), which makes everything
 * written so far durable with one fdatasync; only then may the caller
 * report any of those steps done. If the sync fails, the file is cut back
 * to its last durable length and the log is BROKEN: every step since
 * that sync must be reported failed. Off by default; close always syncs. */
void            signet_event_log_set_defer_sync  (SignetEventLog   *self,
                                                  gboolean          defer);
gboolean        signet_event_log_sync            (SignetEventLog   *self,
                                                  GError          **error);

/* Seal now if records are waiting for a seal (no-op otherwise): before
 * uploading a segment, so that the service receives only sealed records. */
gboolean        signet_event_log_seal            (SignetEventLog   *self,
                                                  GError          **error);

/* Write "session.end" and the final seal, wipe the key and close the
 * file. Nothing can be appended afterwards. */
gboolean        signet_event_log_close_session   (SignetEventLog   *self,
                                                  GError          **error);

/* Borrowed; NULL for a log in memory. */
const char     *signet_event_log_get_path        (SignetEventLog   *self);
/* The seq the next record will get (= number of records written). */
guint64         signet_event_log_get_next_seq    (SignetEventLog   *self);
/* The current epoch (= number of seals written). */
guint64         signet_event_log_get_epoch       (SignetEventLog   *self);
/* SHA-256 of the last record written. Returns: (transfer full) */
GBytes         *signet_event_log_dup_chain_head  (SignetEventLog   *self);
gboolean        signet_event_log_is_closed       (SignetEventLog   *self);
gboolean        signet_event_log_is_broken       (SignetEventLog   *self);
/* The whole log of a log in memory. Returns: (transfer full) */
GBytes         *signet_event_log_dup_contents    (SignetEventLog   *self);

/* ---- verification ------------------------------------------------------- */

typedef enum {
  SIGNET_EVENT_LOG_VERIFIED,       /* every record sealed, ends with session.end + final seal */
  SIGNET_EVENT_LOG_TAMPERED,       /* a record was changed, removed, inserted, moved or forged */
  SIGNET_EVENT_LOG_TRUNCATED,      /* the log stops early: cut inside a record, or at a seal
                                    * without session.end after it */
  SIGNET_EVENT_LOG_UNSEALED_TAIL,  /* records after the last seal that no seal covers */
  SIGNET_EVENT_LOG_MALFORMED,      /* bytes that are not a well-formed record */
} SignetEventLogVerdict;

typedef enum {
  SIGNET_EVENT_LOG_REASON_NONE,
  /* TRUNCATED */
  SIGNET_EVENT_LOG_REASON_EMPTY,              /* no record at all */
  SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD,     /* the log ends inside a record */
  SIGNET_EVENT_LOG_REASON_NO_SESSION_END,     /* ends at a seal, without session.end */
  /* UNSEALED_TAIL */
  SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS,   /* records after the last seal */
  /* MALFORMED */
  SIGNET_EVENT_LOG_REASON_CBOR,               /* not strict, deterministic CBOR */
  SIGNET_EVENT_LOG_REASON_TOO_LARGE,          /* a record over SIGNET_EVENT_LOG_MAX_RECORD */
  SIGNET_EVENT_LOG_REASON_BAD_SHAPE,          /* not [uint, uint, text, text, text/null, map, bstr32] */
  SIGNET_EVENT_LOG_REASON_BAD_TYPE,           /* a type name outside the grammar */
  SIGNET_EVENT_LOG_REASON_BAD_DATA,           /* data with a non-text key or a tag */
  SIGNET_EVENT_LOG_REASON_BAD_SESSION_START,  /* record 0's data is not {session, version, seal_interval} */
  SIGNET_EVENT_LOG_REASON_UNSUPPORTED_VERSION,
  SIGNET_EVENT_LOG_REASON_BAD_SEAL,           /* a seal's data, actor or device is not as written */
  /* TAMPERED */
  SIGNET_EVENT_LOG_REASON_NOT_SESSION_START,  /* record 0 is not session.start */
  SIGNET_EVENT_LOG_REASON_SEQ_GAP,            /* seq jumps ahead: records removed */
  SIGNET_EVENT_LOG_REASON_SEQ_REPEATED,       /* seq of the previous record again: duplicated or inserted */
  SIGNET_EVENT_LOG_REASON_SEQ_BACKWARDS,      /* seq goes back further: records reordered */
  SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN,       /* prev_hash is not the previous record's hash */
  SIGNET_EVENT_LOG_REASON_SESSION_START_REPEATED,
  SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END,   /* anything but the final seal after session.end */
  SIGNET_EVENT_LOG_REASON_SEAL_MISSING,       /* more than seal_interval records without a seal */
  SIGNET_EVENT_LOG_REASON_EMPTY_EPOCH,        /* a seal with no record since the previous one */
  SIGNET_EVENT_LOG_REASON_EPOCH_SKIPPED,      /* a seal claims a later epoch than its own */
  SIGNET_EVENT_LOG_REASON_EPOCH_MISMATCH,     /* a seal claims an earlier epoch than its own */
  SIGNET_EVENT_LOG_REASON_SEAL_MAC,           /* the MAC does not verify under this epoch's key */
  SIGNET_EVENT_LOG_REASON_TRAILING_DATA,      /* bytes after the final seal */
} SignetEventLogReason;

/* Stable machine names ("verified", "seq-gap", ...) for APIs and exports. */
const char *signet_event_log_verdict_to_string (SignetEventLogVerdict verdict);
const char *signet_event_log_reason_to_string  (SignetEventLogReason  reason);

#define SIGNET_TYPE_EVENT_LOG_RESULT (signet_event_log_result_get_type ())
G_DECLARE_FINAL_TYPE (SignetEventLogResult, signet_event_log_result, SIGNET, EVENT_LOG_RESULT, GObject)

SignetEventLogVerdict signet_event_log_result_get_verdict    (SignetEventLogResult *self);
SignetEventLogReason  signet_event_log_result_get_reason     (SignetEventLogResult *self);
/* A sentence for people: which record, what is wrong, what it may mean. */
const char           *signet_event_log_result_get_message    (SignetEventLogResult *self);
/* The record the verdict is about, by position in the log (0-based), or
 * -1 when it is about the log as a whole (VERIFIED, EMPTY). For a log cut
 * short it is the position of the missing or cut record. */
gint64                signet_event_log_result_get_index      (SignetEventLogResult *self);
/* The seq that record claims, or -1 if it could not be read. */
gint64                signet_event_log_result_get_seq        (SignetEventLogResult *self);
/* The byte offset of that record in the log, or -1. */
gint64                signet_event_log_result_get_offset     (SignetEventLogResult *self);
/* The seq of the last seal that verified, or -1 if none did: everything
 * up to it is authentic even when the verdict is not VERIFIED. */
gint64                signet_event_log_result_get_last_sealed_seq (SignetEventLogResult *self);
/* Records that passed every check, and how many of them were seals. */
guint64               signet_event_log_result_get_n_records  (SignetEventLogResult *self);
guint64               signet_event_log_result_get_n_seals    (SignetEventLogResult *self);
/* time_ms of the first and last record that passed; 0 if none. */
guint64               signet_event_log_result_get_first_time (SignetEventLogResult *self);
guint64               signet_event_log_result_get_last_time  (SignetEventLogResult *self);
/* From record 0; NULL if it did not pass. */
const char           *signet_event_log_result_get_session_id (SignetEventLogResult *self);
const char           *signet_event_log_result_get_actor      (SignetEventLogResult *self);

/* A snapshot of a verifier between records, to resume or roll back to:
 * opaque, immutable, refcounted; it holds the current epoch key (a
 * secret of the service, like K_0 itself) and wipes it when freed. */
typedef struct _SignetEventLogState SignetEventLogState;

#define SIGNET_TYPE_EVENT_LOG_STATE (signet_event_log_state_get_type ())
GType                signet_event_log_state_get_type       (void) G_GNUC_CONST;
SignetEventLogState *signet_event_log_state_ref            (SignetEventLogState *state);
void                 signet_event_log_state_unref          (SignetEventLogState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetEventLogState, signet_event_log_state_unref)

/* The seq the next record must have (= records accepted so far). */
guint64              signet_event_log_state_get_next_seq   (SignetEventLogState *state);
/* The epoch whose seal comes next (= seals accepted so far). */
guint64              signet_event_log_state_get_epoch      (SignetEventLogState *state);
/* SHA-256 of the last accepted record (32 zero bytes before record 0).
 * Returns: (transfer none): 32 bytes */
const guint8        *signet_event_log_state_get_chain_head (SignetEventLogState *state);
/* The last accepted seal: its seq (-1 if none) and SHA-256 of its
 * encoding (zeros if none) -- what the service countersigns, since
 * records after it are not yet authenticated. */
gint64               signet_event_log_state_get_last_sealed_seq (SignetEventLogState *state);
const guint8        *signet_event_log_state_get_sealed_head     (SignetEventLogState *state);
/* TRUE once the final seal after session.end was accepted. */
gboolean             signet_event_log_state_is_complete    (SignetEventLogState *state);
/* TRUE once session.end was accepted (its final seal may still be due). */
gboolean             signet_event_log_state_is_ended       (SignetEventLogState *state);

/* A snapshot as bytes, to keep across restarts (the service stores it
 * encrypted: it holds the current epoch key). A fixed, versioned binary
 * layout private to this library; deserialize refuses anything else.
 * Returns: (transfer full): a GBytes that wipes itself */
GBytes              *signet_event_log_state_serialize      (SignetEventLogState *state);
/* Returns: (transfer full) (nullable): NULL with error INVALID for bytes
 * that serialize did not make */
SignetEventLogState *signet_event_log_state_deserialize    (GBytes              *bytes,
                                                            GError             **error);

#define SIGNET_TYPE_EVENT_LOG_VERIFIER (signet_event_log_verifier_get_type ())
G_DECLARE_FINAL_TYPE (SignetEventLogVerifier, signet_event_log_verifier, SIGNET, EVENT_LOG_VERIFIER, GObject)

/* A verifier for a log sealed from k0 (32 bytes, copied). Returns: (transfer full) */
SignetEventLogVerifier *signet_event_log_verifier_new            (GBytes                 *k0);
/* Resume from a snapshot (get_state). Returns: (transfer full) */
SignetEventLogVerifier *signet_event_log_verifier_new_from_state (SignetEventLogState    *state);

/* Check the whole records at the start of segment, which must continue
 * exactly where the previous feed stopped. Returns the number of bytes
 * consumed (whole records only): a partial record at the end is left
 * for the caller to feed again with what follows it (a log that ends
 * there is TRUNCATED at finish). Returns -1 and sets error (REJECTED,
 * with the result's message) at the first record that fails: the
 * verifier then stays failed, and finish names that record. */
gssize               signet_event_log_verifier_feed      (SignetEventLogVerifier *self,
                                                          GBytes                 *segment,
                                                          GError                **error);
/* Same, over a buffer. */
gssize               signet_event_log_verifier_feed_data (SignetEventLogVerifier *self,
                                                          const guint8           *data,
                                                          gsize                   len,
                                                          GError                **error);
/* A snapshot after the last whole record fed. Returns: (transfer full) */
SignetEventLogState *signet_event_log_verifier_get_state (SignetEventLogVerifier *self);
/* The verdict on everything fed so far, taken as the whole log; the
 * verifier may be fed more afterwards. Returns: (transfer full) */
SignetEventLogResult *signet_event_log_verifier_finish   (SignetEventLogVerifier *self);

/* One-shot: verify a whole log. Returns: (transfer full) */
SignetEventLogResult *signet_event_log_verify      (GBytes      *log,
                                                    GBytes      *k0);
/* The same for a file (mapped, not copied).
 * Returns: (transfer full) (nullable): NULL only if the file cannot be read */
SignetEventLogResult *signet_event_log_verify_file (const char  *path,
                                                    GBytes      *k0,
                                                    GError     **error);

/* ---- reading and export -------------------------------------------------- */

/* One decoded record: immutable, refcounted; it keeps the log's bytes
 * alive and points into them. */
typedef struct _SignetEventRecord SignetEventRecord;

#define SIGNET_TYPE_EVENT_RECORD (signet_event_record_get_type ())
GType              signet_event_record_get_type      (void) G_GNUC_CONST;
SignetEventRecord *signet_event_record_ref           (SignetEventRecord *record);
void               signet_event_record_unref         (SignetEventRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetEventRecord, signet_event_record_unref)

guint64            signet_event_record_get_seq       (SignetEventRecord *record);
guint64            signet_event_record_get_time_ms   (SignetEventRecord *record);
const char        *signet_event_record_get_record_type (SignetEventRecord *record);
const char        *signet_event_record_get_actor     (SignetEventRecord *record);
/* (nullable) */
const char        *signet_event_record_get_device    (SignetEventRecord *record);
/* The data map, encoded. Returns: (transfer full) */
GBytes            *signet_event_record_dup_data      (SignetEventRecord *record);
/* The data map as a JSON object (bstr as hex). Returns: (transfer full) */
char              *signet_event_record_data_to_json  (SignetEventRecord *record);
/* Returns: (transfer none): 32 bytes */
const guint8      *signet_event_record_get_prev_hash (SignetEventRecord *record);
/* SHA-256 of the record's encoding. Returns: (transfer none): 32 bytes */
const guint8      *signet_event_record_get_hash      (SignetEventRecord *record);
/* The record's encoding. Returns: (transfer full) */
GBytes            *signet_event_record_dup_raw       (SignetEventRecord *record);
/* Byte offset in the log. */
guint64            signet_event_record_get_offset    (SignetEventRecord *record);

typedef struct _SignetEventLogReader SignetEventLogReader;

/* A reader over a whole log. Returns: (transfer full) */
SignetEventLogReader *signet_event_log_reader_new          (GBytes                *log);
/* Over a file, mapped read-only. Returns: (transfer full) (nullable) */
SignetEventLogReader *signet_event_log_reader_new_for_path (const char            *path,
                                                            GError               **error);
void                  signet_event_log_reader_free         (SignetEventLogReader  *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetEventLogReader, signet_event_log_reader_free)

/* The next record in *out (transfer full), or FALSE at the end. At bytes
 * that are not a well-formed record (structure only: no chain or seal is
 * checked) it returns FALSE with error MALFORMED; so does a partial record
 * at the end. */
gboolean              signet_event_log_reader_next         (SignetEventLogReader  *reader,
                                                            SignetEventRecord    **out,
                                                            GError               **error);

/* The log as a JSON array of records
 * {"seq", "time_ms", "time", "type", "actor", "device", "data",
 *  "prev_hash", "hash"} (bstr as lowercase hex, CBOR maps as objects).
 * Returns: (transfer full) (nullable) */
char *signet_event_log_export_json (GBytes  *log,
                                    GError **error);
/* The log as RFC 4180 CSV: seq,time,type,actor,device,summary with time
 * in ISO 8601 UTC and summary "key=value; ..." of the data.
 * Returns: (transfer full) (nullable) */
char *signet_event_log_export_csv  (GBytes  *log,
                                    GError **error);

G_END_DECLS
