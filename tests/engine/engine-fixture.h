/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine-fixture.h: real programs for the engine's integration tests.
 *
 * A Fixture is a signetd (init; technician "alice" with a TOTP secret; a
 * vault secret; the acme-wifi profile and any others given; the devsim
 * CA; serve on 127.0.0.1:0 with its own TLS certificate) and a signed-in
 * service session with the trust document, the profiles of acme-gw1 and
 * an in-memory event log (K_0 kept in the fixture so tests can verify).
 * A FixtureDevice is a signet-devsim provisioned against that service and
 * running, with an opened transport and a SignetDeviceSession. Every
 * helper asserts: a failure of the set-up is a failure of the test.
 * Everything lives in one temp dir, removed at teardown.
 *
 * The transport is chosen by the environment, so that the same test
 * bodies run over USB serial and over BLE (docs/ble.md "Tests"):
 *   SIGNET_TEST_TRANSPORT unset or "serial": devsim on a pty,
 *     SignetSerialTransport (real ptys).
 *   SIGNET_TEST_TRANSPORT=ble: `devsim run --ble --adapter HCI` on one of
 *     the peripheral controllers SIGNET_PERIPHERAL_HCIS (space-separated,
 *     one per device running at once), found by SignetBleMonitor on the
 *     system bus under its central controller (SIGNET_CENTRAL_HCIS, pair
 *     by pair, else SIGNET_CENTRAL_HCI) and opened with
 *     SignetBleTransport -- the real BlueZ in the QEMU guest
 *     (tests/ble/qemu/, suite `ble`).
 *
 *   TEST SIGNETD SIGNET_DEVSIM MODELS_DIR [--tap]
 */
#pragma once

#include <json-glib/json-glib.h>

#include "signet-device-session.h"
#include "signet-serial-transport.h"
#include "signet-ble-transport.h"

G_BEGIN_DECLS

#define FIXTURE_PASSWORD "correct horse battery staple"
#define FIXTURE_PSK "site-a-wpa2-passphrase"
#define FIXTURE_USER "alice"

/* The acme-wifi profile (credential, critical, a sealed wifi.psk). */
extern const char fixture_wifi_profile_json[];

typedef struct {
  char *tmp;
  char *data;           /* signetd --data-dir */
  char *ca_dir;         /* the devsim manufacturer CA */
  char *tls;            /* the service's certificate (PEM) */
  char *url;
  char *totp_secret;    /* base32 */
  GSubprocess *signetd;
  SignetServiceClient *client;
  SignetServiceSession *session;
  SignetServiceTrust *trust;
  GPtrArray *profiles;  /* of acme-gw1 */
  SignetEventLog *log;
  GBytes *k0;
  gint64 last_totp_step;
} Fixture;

typedef struct {
  char *name;
  char *state;
  char *pty;            /* serial: the device's pty */
  char *adapter;        /* BLE: the peripheral controller it runs on */
  char *ble_path;       /* BLE: its Device1 object under the central */
  char *status_file;
  GSubprocess *proc;
  SignetTransport *transport;
  SignetDeviceSession *session;
} FixtureDevice;

/* Reads SIGNETD SIGNET_DEVSIM MODELS_DIR from argv after g_test_init;
 * FALSE (tests should skip) when they are missing. */
gboolean  fixture_parse_args (int argc, char **argv);
/* The programs, as given. */
const char *fixture_signetd (void);
const char *fixture_devsim (void);
const char *fixture_models_dir (void);
/* TRUE when the devices run over BLE (SIGNET_TEST_TRANSPORT=ble). */
gboolean  fixture_transport_is_ble (void);

/* Set up the service and sign in. config (nullable) is written as
 * signetd.conf content to the data dir before serve (e.g. a short
 * "[tokens]\nlifetime=5\n"); extra_profiles (nullable, NULL-terminated)
 * are JSON documents added with `signetd profile add`.
 * FALSE (and g_test_skip) when the programs were not given. */
gboolean  fixture_setup      (Fixture *f, const char *config, const char * const *extra_profiles);
/* The same without signing in (session, trust, profiles, log stay NULL). */
gboolean  fixture_setup_service (Fixture *f, const char *config,
                                 const char * const *extra_profiles);
void      fixture_teardown   (Fixture *f);
/* Stop / start signetd again on the same data dir and the same address
 * (the client stays valid). */
void      fixture_signetd_stop  (Fixture *f);
void      fixture_signetd_start (Fixture *f);
/* Merge config (signetd.conf content) into the data dir's configuration;
 * it takes effect at the next fixture_signetd_start. */
void      fixture_merge_config  (Fixture *f, const char *config);
/* A fresh TOTP code for alice (waits for the next 30-s step when the
 * current one was already used by this fixture). Returns: (transfer full) */
char     *fixture_totp        (Fixture *f);
/* Sign in again (a new service session and event log; the old ones are
 * dropped). */
void      fixture_sign_in     (Fixture *f);
/* The profile of the service session's list by id. Returns: (transfer none) */
const SignetServiceProfile *fixture_profile (Fixture *f, const char *id);

/* Provision a devsim (model file MODEL.json of MODELS_DIR, serial) and
 * run it on a pty with extra_run_args (nullable, NULL-terminated: fault
 * flags of docs/devsim.md), then open the transport and make a device
 * session on the fixture's session, trust and log. */
void      fixture_device_start (Fixture *f, FixtureDevice *d, const char *name, const char *model,
                                const char *serial, const char * const *extra_run_args);
/* The same with the provision arguments given whole (after --state:
 * e.g. a clone's --clone-cert-from STATE), for devices the standard
 * factory line would not make. */
void      fixture_device_start_provisioned (Fixture *f, FixtureDevice *d, const char *name,
                                            const char * const *provision_args,
                                            const char * const *extra_run_args);
/* fixture_device_start with extra `provision` args (nullable,
 * NULL-terminated: e.g. "--flash-size", "8M" for a larger bulk area). */
void      fixture_device_start_full (Fixture *f, FixtureDevice *d, const char *name,
                                     const char *model, const char *serial,
                                     const char * const *provision_args,
                                     const char * const *extra_run_args);
/* Run the provisioned device again (after a crash or stop), same state;
 * a new pty, transport and device session. */
void      fixture_device_restart (Fixture *f, FixtureDevice *d,
                                  const char * const *extra_run_args);
/* Close the transport and stop the simulator (SIGTERM). */
void      fixture_device_stop  (FixtureDevice *d);
/* A new device session (the fixture's current session, trust and log)
 * over the device's transport. */
void      fixture_device_renew_session (Fixture *f, FixtureDevice *d);
/* hello, attest, revocation, authorize: each must succeed. */
void      fixture_device_open  (FixtureDevice *d);
/* Link units the tool has sent to the device so far: frames (serial),
 * segments + L2CAP SDUs (BLE). A refusal before sending leaves it
 * unchanged. */
guint64   fixture_device_units_sent (FixtureDevice *d);
/* Bytes the tool has put on the link (frames, or ATT values + SDUs), and
 * damaged units it dropped. */
guint64   fixture_device_bytes_sent (FixtureDevice *d);
guint64   fixture_device_units_dropped (FixtureDevice *d);
/* The transport's receive timeout (ms). */
void      fixture_device_set_receive_timeout (FixtureDevice *d, guint ms);
/* `signet-devsim status --state ... --json`. Returns: (transfer full) */
JsonObject *fixture_device_status (FixtureDevice *d);

/* Run program with args (NULL-terminated), stdin_text fed; asserts it
 * succeeds. Returns: (transfer full) its stdout */
char     *fixture_run        (const char *stdin_text, const char *program, ...) G_GNUC_NULL_TERMINATED;
/* The same, returning FALSE instead of asserting; out/err (nullable). */
gboolean  fixture_try_run    (const char *stdin_text, char **out, char **err,
                              const char *program, ...) G_GNUC_NULL_TERMINATED;

/* Asynchronous calls in tests: pass fixture_got_result, &res; then
 * fixture_wait (&res) iterates the default main context until it is set. */
void          fixture_got_result (GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *fixture_wait       (GAsyncResult **slot);
#define FIXTURE_AWAIT(call_with_cb, res) \
  G_STMT_START { g_clear_object (&res); call_with_cb; fixture_wait (&res); } G_STMT_END

/* a{sv} of the wifi profile's non-secret fields (floating). */
GVariant *fixture_wifi_values (gint32 channel);
/* Lower-case hex. Returns: (transfer full) */
char     *fixture_hex        (GBytes *bytes);
void      fixture_rm_rf      (const char *path);

G_END_DECLS
