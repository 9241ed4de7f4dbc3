/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-audit.h: the service's own tamper-evident audit log.
 *
 * Each process that changes the service's state -- `signetd serve`, and
 * each state-changing CLI command -- writes its own event log
 * (docs/eventlog.md, core's SignetEventLog writer), one file per run under
 * DATA_DIR/audit/ (mode 0700 directory, 0600 files): never two writers on
 * one file. A log's id is "signetd-WRITER-YYYYMMDDTHHMMSSZ-XXXXXXXX"
 * (WRITER serve or cli, 8 random hex digits); its file is that id +
 * ".cbor-seq". Its K_0 (32 random bytes) is kept in the `logs` row of
 * the id, sealed under the master key (purpose "audit-log-key:ID"), so
 * the service verifies it like a technician's log, and GET /v1/logs lists
 * it with kind "service" and technician "signetd".
 *
 * The actor of every record is "signetd". Record 1 is "audit.start"
 * {"writer", "pid", "version"}; the last are session.end and the final
 * seal (signetd_audit_close()). Each record is on stable storage
 * (write + fdatasync) when signetd_audit_record() returns TRUE -- or, in
 * group commit, when the next signetd_audit_sync() does: callers answer a
 * state-changing request only afterwards, and answer 500 if it failed (the log is then broken and refuses every later record, so the
 * service fails closed rather than act without a record).
 *
 * What goes in: names, ids, reasons, counts, digests -- never a password,
 * TOTP code, token, proof, K_0 or secret value. Token ids (cti) and
 * sessions are recorded: they are what revocation takes.
 *
 * A NULL SignetdAudit is allowed everywhere and records nothing (tests,
 * benchmarks in process).
 */
#pragma once

#include <stdarg.h>

#include <glib.h>

#include "signetd-keys.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_AUDIT_ERROR (signetd_audit_error_quark ())
GQuark signetd_audit_error_quark (void);

typedef enum {
  SIGNETD_AUDIT_ERROR_FAILED,     /* the directory, the file or the row cannot be made */
  SIGNETD_AUDIT_ERROR_WRITE,      /* a record could not be made durable */
} SignetdAuditError;

#define SIGNETD_AUDIT_DIR "audit"
#define SIGNETD_AUDIT_ACTOR "signetd"
#define SIGNETD_AUDIT_SUFFIX ".cbor-seq"

typedef struct _SignetdAudit SignetdAudit;

/* Create a new audit log for writer ("serve" or "cli") under data_dir and
 * write its first records. Borrows store and keys.
 * Returns: (transfer full) (nullable) */
SignetdAudit *signetd_audit_open        (const char    *data_dir,
                                         SignetdStore  *store,
                                         SignetdKeys   *keys,
                                         const char    *writer,
                                         GError       **error);

/* Append one record of type (a dotted name, docs/eventlog.md) about
 * device (nullable), with the data described by fmt, one char per
 * member, each followed by the member's name and value:
 *   't' const char * (NULL: null)     'i' gint64
 *   'x' GBytes * (a byte string)      'a' const char * const * (an array of texts)
 * e.g. signetd_audit_record (a, "auth.login", NULL, &error, "ti",
 *                            "user", name, "exp", exp).
 * Durable when it returns TRUE. */
gboolean      signetd_audit_record      (SignetdAudit  *self,
                                         const char    *type,
                                         const char    *device,
                                         GError       **error,
                                         const char    *fmt,
                                         ...);
gboolean      signetd_audit_record_valist (SignetdAudit  *self,
                                           const char    *type,
                                           const char    *device,
                                           GError       **error,
                                           const char    *fmt,
                                           va_list        ap);

/* Group commit (signetd serve): records are written at once but made
 * durable together by signetd_audit_sync(), which the server calls
 * before it answers any request whose record is among them (and answers
 * 500 to all of them if it fails). Off: each record is durable when
 * signetd_audit_record() returns. */
void          signetd_audit_set_group_commit (SignetdAudit *self,
                                              gboolean      group);
gboolean      signetd_audit_sync        (SignetdAudit  *self,
                                         GError       **error);

/* Seal what is not sealed yet (before the log is read for review). */
gboolean      signetd_audit_seal        (SignetdAudit  *self,
                                         GError       **error);

/* (transfer none) (nullable) */
const char   *signetd_audit_get_id      (SignetdAudit  *self);

/* Write session.end and the final seal, log what appending cost, free. */
void          signetd_audit_close       (SignetdAudit  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdAudit, signetd_audit_close)

G_END_DECLS
