/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-config.h: the service's policy, from DATA_DIR/signetd.conf.
 *
 * A GKeyFile read strictly: an unknown group or key, a value of the wrong
 * type or out of range is an error (a typo in a security policy must not
 * silently fall back to a default). Command-line flags override the file
 * after it is read (signetd_config_set_listen()).
 *
 *   [server]
 *   listen=127.0.0.1:8443          ADDR:PORT (IPv6 as [::1]:8443)
 *   public_url=https://host:8443   the tokens' iss (default https:// + listen)
 *   tls_cert=tls-cert.pem          PEM files, relative to the data dir
 *   tls_key=tls-key.pem
 *   [tokens]
 *   lifetime=900                   seconds a token lives
 *   session_max=28800              seconds a session may be refreshed
 *   [totp]
 *   window=1                       steps accepted either side of now
 *   [lockout]
 *   backoff_after=5                failures of one user before back-off
 *   lock_after=10                  failures of one user before the lock
 *   backoff_max=900                cap of the back-off, seconds
 *   address_backoff_after=20       failures from one address before back-off
 *   [audit]
 *   rotate=86400                   seconds; `serve` starts a new audit log when
 *                                  the UTC time crosses a multiple of it
 *
 * A SignetdConfig is a plain struct owned by its caller.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIGNETD_CONFIG_ERROR (signetd_config_error_quark ())
GQuark signetd_config_error_quark (void);

typedef enum {
  SIGNETD_CONFIG_ERROR_IO,        /* the file cannot be read or written */
  SIGNETD_CONFIG_ERROR_INVALID,   /* syntax, unknown key, bad value */
} SignetdConfigError;

#define SIGNETD_CONFIG_FILE "signetd.conf"

typedef struct {
  char *data_dir;
  char *listen;          /* ADDR:PORT */
  char *public_url;      /* NULL: "https://" + listen */
  char *tls_cert;        /* absolute paths */
  char *tls_key;
  gint64 token_lifetime;
  gint64 session_max;
  guint totp_window;
  guint backoff_after;
  guint lock_after;
  gint64 backoff_max;
  guint address_backoff_after;
  gint64 audit_rotate;
} SignetdConfig;

/* The defaults, for data_dir. Returns: (transfer full) */
SignetdConfig *signetd_config_new_default (const char     *data_dir);

/* Read DATA_DIR/signetd.conf. Returns: (transfer full) (nullable) */
SignetdConfig *signetd_config_load        (const char     *data_dir,
                                           GError        **error);

/* Write self as DATA_DIR/signetd.conf (mode 0600, refusing to replace a
 * file). */
gboolean       signetd_config_save        (SignetdConfig  *self,
                                           GError        **error);

/* Override the listen address (validated). */
gboolean       signetd_config_set_listen  (SignetdConfig  *self,
                                           const char     *listen,
                                           GError        **error);

/* Split ADDR:PORT ("[::1]:8443" for IPv6); port 0 is allowed. */
gboolean       signetd_config_parse_listen (const char    *listen,
                                            char         **out_host,
                                            guint16       *out_port,
                                            GError       **error);

/* The tokens' issuer: public_url, or "https://" + listen. (transfer full) */
char          *signetd_config_dup_issuer  (SignetdConfig  *self);

void           signetd_config_free        (SignetdConfig  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdConfig, signetd_config_free)

G_END_DECLS
