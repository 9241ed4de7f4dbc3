/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-seal: sealing vault secrets to an attested device
 * (signetd-seal.h). Each check of the documented order fails with its own
 * code while every later check would fail too, so the order is what is
 * tested; the step-up rule at its boundary; and a sealed value opens with
 * the device's KEM key through proto's HPKE with the documented info and
 * aad (built here by hand), its digest being SHA-256 (enc || ct).
 *
 * The manufacturer CA and device certificates are made here with
 * signet_x509_issue() (OpenSSL's X509 API: P-256, CA:TRUE + keyCertSign on
 * the root, a subject serialNumber and digitalSignature on the device),
 * the evidence with sp_evidence_sign().
 */
#include "config.h"

#include <string.h>

#include "signet-crypto-port.h"
#include "signet-hpke.h"
#include "signet-secret.h"
#include "signet-x509.h"
#include "signetd-seal.h"
#include "sp-evidence.h"
#include "sp-hpke.h"

#define SERIAL "SN-0001"
#define SERIAL2 "SN-0002"
#define MODEL "acme-gw1"
#define PSK "correct horse battery"
#define TOKEN "tok-3b1f-0c99"

static const char credential_profile[] =
  "{\"id\": \"acme-wifi\", \"version\": 3, \"model\": \"acme-gw1\", \"class\": \"credential\","
  " \"critical\": true, \"description\": \"Site Wi-Fi credentials\","
  " \"fields\": ["
  "   {\"key\": \"wifi.ssid\", \"type\": \"string\", \"min\": 1, \"max\": 32},"
  "   {\"key\": \"wifi.psk\", \"type\": \"string\", \"min\": 8, \"max\": 63, \"secret\": true,"
  "    \"vault\": \"site-a/wifi-psk\"},"
  "   {\"key\": \"api.token\", \"type\": \"string\", \"secret\": true,"
  "    \"vault\": \"site-a/token\"},"
  "   {\"key\": \"local.pin\", \"type\": \"string\", \"secret\": true},"
  "   {\"key\": \"gone\", \"type\": \"string\", \"secret\": true, \"vault\": \"site-a/none\"},"
  "   {\"key\": \"wifi.channel\", \"type\": \"int\", \"min\": 1, \"max\": 13}]}";

/* Not critical: no step-up needed. */
static const char config_profile[] =
  "{\"id\": \"acme-cfg\", \"version\": 1, \"model\": \"acme-gw1\", \"class\": \"config\","
  " \"critical\": false,"
  " \"fields\": [{\"key\": \"api.token\", \"type\": \"string\", \"secret\": true,"
  "  \"vault\": \"site-a/token\"}]}";

/* Critical by choice, though config. */
static const char critical_config_profile[] =
  "{\"id\": \"acme-cfg-crit\", \"version\": 1, \"model\": \"acme-gw1\", \"class\": \"config\","
  " \"critical\": true,"
  " \"fields\": [{\"key\": \"api.token\", \"type\": \"string\", \"secret\": true,"
  "  \"vault\": \"site-a/token\"}]}";

static const char other_model_profile[] =
  "{\"id\": \"other-wifi\", \"version\": 1, \"model\": \"acme-gw2\", \"class\": \"credential\","
  " \"critical\": true,"
  " \"fields\": [{\"key\": \"wifi.psk\", \"type\": \"string\", \"secret\": true,"
  "  \"vault\": \"site-a/wifi-psk\"}]}";

static const char removed_profile[] =
  "{\"id\": \"acme-old\", \"version\": 1, \"model\": \"acme-gw1\", \"class\": \"credential\","
  " \"critical\": true,"
  " \"fields\": [{\"key\": \"wifi.psk\", \"type\": \"string\", \"secret\": true,"
  "  \"vault\": \"site-a/wifi-psk\"}]}";

typedef struct {
  gint64 now;
  SignetdStore *store;
  SignetdKeys *keys;
  SignetdTrust *trust;
  SignetdVault *vault;
  SignetdProfiles *profiles;
  SignetdSeal *seal;

  SignetKey *ca_key;
  GBytes *ca_der;
  SignetKey *dev_key;       /* identity of SERIAL */
  GBytes *dev_der;
  SignetKey *dev2_key;      /* identity of SERIAL2, revoked */
  GBytes *dev2_der;
  SignetKey *kem;           /* SERIAL's KEM key */
  GPtrArray *chain;         /* SERIAL's chain: leaf only */
  GPtrArray *chain2;
  GBytes *evidence;         /* SERIAL's, model MODEL */

  GPtrArray *messages;      /* every error message, to look for values */
} Fixture;

static GPtrArray *
chain_of (GBytes *leaf,
          GBytes *issuer)
{
  GPtrArray *chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_ptr_array_add (chain, g_bytes_ref (leaf));
  if (issuer != NULL)
    g_ptr_array_add (chain, g_bytes_ref (issuer));
  return chain;
}

/* Evidence as a device would sign it. */
static GBytes *
make_evidence (SignetKey  *identity,
               const char *serial,
               const char *model,
               GBytes     *kem_pub)
{
  guint8 challenge[SP_EVIDENCE_CHALLENGE_LEN];
  guint8 nonce[SP_EVIDENCE_NONCE_LEN];
  guint8 buf[SP_EVIDENCE_MAX_SIZE];
  sp_evidence ev = { 0 };
  size_t len = 0;

  memset (challenge, 0xc1, sizeof challenge);
  memset (nonce, 0x5e, sizeof nonce);
  ev.serial = serial;
  ev.serial_len = strlen (serial);
  ev.model = model;
  ev.model_len = strlen (model);
  ev.challenge = challenge;
  ev.kem_pub = g_bytes_get_data (kem_pub, NULL);
  ev.firmware = "1.4.2";
  ev.firmware_len = 5;
  ev.config_version = 7;
  ev.session_nonce = nonce;
  ev.device_time = 1700000000;
  g_assert_cmpint (sp_evidence_sign (signet_crypto_port_openssl (),
                                     signet_key_get_sp_key (identity), &ev, buf, sizeof buf,
                                     &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

/* signet_x509_issue: a certificate is valid from the second it is issued
 * in, which may be a second after f->now was read (under load, key
 * generation takes a while): f->now moves up to it, so that the checks at
 * f->now never see a certificate that is not valid yet. */
static GBytes *
issue (Fixture    *f,
       SignetKey  *issuer_key,
       GBytes     *issuer_der,
       SignetKey  *subject_key,
       const char *common_name,
       const char *device_serial,
       gboolean    is_ca,
       guint       days)
{
  g_autoptr(GError) error = NULL;
  GBytes *der = signet_x509_issue (issuer_key, issuer_der, subject_key, common_name,
                                   device_serial, is_ca, days, &error);

  g_assert_no_error (error);
  f->now = MAX (f->now, g_get_real_time () / G_USEC_PER_SEC);
  return der;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) master = NULL;
  g_autoptr(GBytes) kem_pub = NULL;
  g_autoptr(GBytes) psk = g_bytes_new_static (PSK, strlen (PSK));
  g_autoptr(GBytes) token = g_bytes_new_static (TOKEN, strlen (TOKEN));
  g_autofree char *ca_pem = NULL;
  g_autofree char *kid = NULL;
  guint8 k[SIGNETD_MASTER_KEY_LEN];
  const char *profiles[] = { credential_profile, config_profile, critical_config_profile,
                             other_model_profile, removed_profile };

  f->now = g_get_real_time () / G_USEC_PER_SEC;
  f->messages = g_ptr_array_new_with_free_func (g_free);
  f->store = signetd_store_open (":memory:", TRUE, &error);
  g_assert_no_error (error);
  memset (k, 0x42, sizeof k);
  master = signet_secret_bytes_new (k, sizeof k);
  f->keys = signetd_keys_new_with_master (master, f->store);
  /* The revocation list is signed: an authority key is needed. */
  kid = signetd_keys_rotate (f->keys, f->now, &error);
  g_assert_no_error (error);
  f->trust = signetd_trust_new (f->store, f->keys);
  f->vault = signetd_vault_new (f->store, f->keys);
  f->profiles = signetd_profiles_new (f->store, f->keys);
  f->seal = signetd_seal_new (f->trust, f->profiles, f->vault);

  /* A manufacturer CA, trusted, and two devices it certified. */
  f->ca_key = signet_key_generate (&error);
  g_assert_no_error (error);
  f->ca_der = issue (f, f->ca_key, NULL, f->ca_key, "Acme Devices Root CA", NULL, TRUE, 3650);
  ca_pem = signet_x509_pem_from_der (f->ca_der, &error);
  g_assert_no_error (error);
  g_free (signetd_trust_add_ca (f->trust, ca_pem, f->now, &error));
  g_assert_no_error (error);

  f->dev_key = signet_key_generate (&error);
  f->dev_der = issue (f, f->ca_key, f->ca_der, f->dev_key, "acme-gw1 " SERIAL, SERIAL, FALSE,
                      365);
  f->dev2_key = signet_key_generate (&error);
  f->dev2_der = issue (f, f->ca_key, f->ca_der, f->dev2_key, "acme-gw1 " SERIAL2, SERIAL2,
                       FALSE, 365);
  g_assert_true (signetd_trust_revoke_device (f->trust, SERIAL2, f->now, &error));
  g_assert_no_error (error);
  f->chain = chain_of (f->dev_der, NULL);
  f->chain2 = chain_of (f->dev2_der, NULL);

  f->kem = signet_key_generate (&error);
  g_assert_no_error (error);
  kem_pub = signet_key_get_public_bytes (f->kem);
  f->evidence = make_evidence (f->dev_key, SERIAL, MODEL, kem_pub);

  for (gsize i = 0; i < G_N_ELEMENTS (profiles); i++)
    {
      g_autoptr(SignetdProfile) p = signetd_profiles_add (f->profiles, profiles[i],
                                                          strlen (profiles[i]), f->now, &error);

      g_assert_no_error (error);
      g_assert_nonnull (p);
    }
  g_assert_true (signetd_profiles_remove (f->profiles, "acme-old", f->now, &error));
  g_assert_true (signetd_vault_set (f->vault, "site-a/wifi-psk", psk, f->now, NULL, &error));
  g_assert_true (signetd_vault_set (f->vault, "site-a/token", token, f->now, NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  /* No refusal quoted a value. */
  for (guint i = 0; i < f->messages->len; i++)
    {
      const char *m = g_ptr_array_index (f->messages, i);

      g_assert_null (strstr (m, PSK));
      g_assert_null (strstr (m, TOKEN));
    }
  g_ptr_array_unref (f->messages);
  g_ptr_array_unref (f->chain);
  g_ptr_array_unref (f->chain2);
  g_bytes_unref (f->evidence);
  g_bytes_unref (f->ca_der);
  g_bytes_unref (f->dev_der);
  g_bytes_unref (f->dev2_der);
  signet_key_unref (f->ca_key);
  signet_key_unref (f->dev_key);
  signet_key_unref (f->dev2_key);
  signet_key_unref (f->kem);
  signetd_seal_free (f->seal);
  signetd_profiles_free (f->profiles);
  signetd_vault_free (f->vault);
  signetd_trust_free (f->trust);
  signetd_keys_free (f->keys);
  signetd_store_free (f->store);
}

/* Made-up caller claims: only scope and auth_time matter to sealing. */
static sp_cwt_claims
claims_with (const char *scope,
             gint64      auth_time,
             gboolean    has_auth_time)
{
  sp_cwt_claims c;

  memset (&c, 0, sizeof c);
  if (scope != NULL)
    {
      c.present |= SP_CWT_SCOPE;
      c.scope = sp_cwt_text_from (scope);
    }
  if (has_auth_time)
    {
      c.present |= SP_CWT_AUTH_TIME;
      c.auth_time = auth_time;
    }
  return c;
}

#define ALL_SCOPES "config.write credential.rotate firmware.update"

static GPtrArray *
run (Fixture              *f,
     const sp_cwt_claims  *claims,
     GPtrArray            *chain,
     GBytes               *evidence,
     const char           *profile_id,
     const char * const   *keys,
     char                **out_serial,
     GError              **error)
{
  GPtrArray *out = signetd_seal_run (f->seal, claims, chain, evidence, profile_id, keys, f->now,
                                     out_serial, error);

  if (out == NULL && error != NULL && *error != NULL)
    g_ptr_array_add (f->messages, g_strdup ((*error)->message));
  return out;
}

static void
expect_refusal (Fixture              *f,
                const sp_cwt_claims  *claims,
                GPtrArray            *chain,
                GBytes               *evidence,
                const char           *profile_id,
                const char * const   *keys,
                gint                  code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *serial = NULL;
  g_autoptr(GPtrArray) out = run (f, claims, chain, evidence, profile_id, keys, &serial, &error);

  g_assert_null (out);
  g_assert_null (serial);
  if (!g_error_matches (error, SIGNETD_SEAL_ERROR, code))
    g_error ("expected seal error %d, got %s %d: %s", code,
             error != NULL ? g_quark_to_string (error->domain) : "none",
             error != NULL ? error->code : -1, error != NULL ? error->message : "");
}

/* ---- the checks, in order -------------------------------------------------- */

static const char * const psk_only[] = { "wifi.psk", NULL };
/* Every key wrong in some way. */
static const char * const bad_keys[] = { "wifi.ssid", "nope", NULL };

static void
test_untrusted (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sp_cwt_claims none = claims_with (NULL, 0, FALSE);
  sp_cwt_claims good = claims_with (ALL_SCOPES, f->now, TRUE);
  g_autoptr(SignetKey) rogue_key = signet_key_generate (&error);
  /* Another CA with the same name as the trusted one. */
  g_autoptr(GBytes) rogue_ca = issue (f, rogue_key, NULL, rogue_key, "Acme Devices Root CA",
                                      NULL, TRUE, 3650);
  /* The same device key and serial, certified by a CA nobody trusts. */
  g_autoptr(GBytes) rogue_dev = issue (f, rogue_key, rogue_ca, f->dev_key, "acme-gw1", SERIAL,
                                       FALSE, 365);
  g_autoptr(GPtrArray) rogue_chain = chain_of (rogue_dev, rogue_ca);
  g_autoptr(GPtrArray) rogue_leaf = chain_of (rogue_dev, NULL);
  g_autoptr(GBytes) short_dev = issue (f, f->ca_key, f->ca_der, f->dev_key, "acme-gw1", SERIAL,
                                       FALSE, 1);
  g_autoptr(GPtrArray) short_chain = chain_of (short_dev, NULL);
  /* The CA itself as a leaf. */
  g_autoptr(GPtrArray) ca_chain = chain_of (f->ca_der, NULL);
  g_autoptr(GBytes) junk = g_bytes_new_static ("not a certificate", 17);
  g_autoptr(GPtrArray) junk_chain = chain_of (junk, NULL);
  g_autoptr(GPtrArray) empty_chain = g_ptr_array_new ();
  g_autoptr(GPtrArray) ok = NULL;

  g_assert_no_error (error);
  /* Whatever else is wrong (no scope, no auth_time, an unknown profile,
   * wrong keys), the chain is judged first. */
  expect_refusal (f, &none, rogue_chain, f->evidence, "nope", bad_keys,
                  SIGNETD_SEAL_ERROR_UNTRUSTED);
  expect_refusal (f, &good, rogue_chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_UNTRUSTED);
  expect_refusal (f, &good, rogue_leaf, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_UNTRUSTED);
  expect_refusal (f, &good, ca_chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_UNTRUSTED);
  expect_refusal (f, &good, junk_chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_INVALID);
  expect_refusal (f, &none, junk_chain, junk, "nope", NULL, SIGNETD_SEAL_ERROR_INVALID);
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(GPtrArray) out = run (f, &good, empty_chain, f->evidence, "acme-wifi", psk_only,
                                    NULL, &e);

    g_assert_null (out);
    g_assert_true (g_error_matches (e, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_INVALID) ||
                   g_error_matches (e, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_UNTRUSTED));
  }

  /* A device certificate valid for a day: fine now, expired in two. */
  ok = run (f, &good, short_chain, f->evidence, "acme-wifi", psk_only, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
  f->now += 2 * 86400;
  good.auth_time = f->now;
  expect_refusal (f, &good, short_chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_UNTRUSTED);
}

static void
test_revoked (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sp_cwt_claims none = claims_with (NULL, 0, FALSE);
  sp_cwt_claims good = claims_with (ALL_SCOPES, f->now, TRUE);
  g_autoptr(GBytes) kem_pub = signet_key_get_public_bytes (f->kem);
  g_autoptr(GBytes) ev2 = make_evidence (f->dev2_key, SERIAL2, MODEL, kem_pub);
  g_autoptr(GPtrArray) ok = NULL;

  /* SERIAL2 is revoked, even with its own good evidence. */
  expect_refusal (f, &good, f->chain2, ev2, "acme-wifi", psk_only, SIGNETD_SEAL_ERROR_REVOKED);
  /* Before the evidence, the profile, the scope and the keys. */
  expect_refusal (f, &none, f->chain2, f->evidence, "nope", bad_keys,
                  SIGNETD_SEAL_ERROR_REVOKED);

  /* SERIAL seals until it is revoked too. */
  ok = run (f, &good, f->chain, f->evidence, "acme-wifi", psk_only, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (signetd_trust_revoke_device (f->trust, SERIAL, f->now, &error));
  g_assert_no_error (error);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_REVOKED);
}

static void
test_bad_evidence (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sp_cwt_claims none = claims_with (NULL, 0, FALSE);
  sp_cwt_claims good = claims_with (ALL_SCOPES, f->now, TRUE);
  g_autoptr(GBytes) kem_pub = signet_key_get_public_bytes (f->kem);
  /* Signed by a key that is not the certificate's. */
  g_autoptr(GBytes) by_kem = make_evidence (f->kem, SERIAL, MODEL, kem_pub);
  /* Signed by the right key, for another serial. */
  g_autoptr(GBytes) other_serial = make_evidence (f->dev_key, SERIAL2, MODEL, kem_pub);
  /* A kem_pub that is not a point on P-256 (x = y = 1). */
  guint8 bad_point[SP_EVIDENCE_KEM_PUB_LEN] = { 0x04 };
  g_autoptr(GBytes) bad_kem_pub = NULL;
  g_autoptr(GBytes) off_curve = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  gsize len = 0;
  const guint8 *ev = g_bytes_get_data (f->evidence, &len);

  bad_point[32] = 1;
  bad_point[64] = 1;
  bad_kem_pub = g_bytes_new (bad_point, sizeof bad_point);
  off_curve = make_evidence (f->dev_key, SERIAL, MODEL, bad_kem_pub);

  expect_refusal (f, &none, f->chain, by_kem, "nope", bad_keys, SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  expect_refusal (f, &good, f->chain, by_kem, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  expect_refusal (f, &none, f->chain, other_serial, "nope", bad_keys,
                  SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  expect_refusal (f, &good, f->chain, other_serial, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  expect_refusal (f, &good, f->chain, off_curve, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  expect_refusal (f, &good, f->chain, empty, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  /* Every truncation, and a flipped bit every 7 bytes. */
  for (gsize cut = 0; cut < len; cut += 3)
    {
      g_autoptr(GBytes) part = g_bytes_new (ev, cut);

      expect_refusal (f, &good, f->chain, part, "acme-wifi", psk_only,
                      SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
    }
  for (gsize i = 0; i < len; i += 7)
    {
      g_autofree guint8 *copy = g_memdup2 (ev, len);
      g_autoptr(GBytes) flipped = NULL;

      copy[i] ^= 0x10;
      flipped = g_bytes_new (copy, len);
      expect_refusal (f, &good, f->chain, flipped, "acme-wifi", psk_only,
                      SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
    }
  /* Trailing bytes. */
  {
    g_autofree guint8 *longer = g_malloc0 (len + 1);
    g_autoptr(GBytes) more = NULL;

    memcpy (longer, ev, len);
    more = g_bytes_new (longer, len + 1);
    expect_refusal (f, &good, f->chain, more, "acme-wifi", psk_only,
                    SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
  }
  /* The genuine evidence passes (the refusals above were its changes). */
  {
    g_autoptr(GPtrArray) ok = run (f, &good, f->chain, f->evidence, "acme-wifi", psk_only, NULL,
                                   &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ok->len, ==, 1);
  }
}

static void
test_no_profile (Fixture       *f,
                 gconstpointer  data)
{
  sp_cwt_claims none = claims_with (NULL, 0, FALSE);
  sp_cwt_claims good = claims_with (ALL_SCOPES, f->now, TRUE);

  expect_refusal (f, &none, f->chain, f->evidence, "nope", bad_keys,
                  SIGNETD_SEAL_ERROR_NO_PROFILE);
  expect_refusal (f, &good, f->chain, f->evidence, "nope", psk_only,
                  SIGNETD_SEAL_ERROR_NO_PROFILE);
  /* Removed: no longer served. */
  expect_refusal (f, &none, f->chain, f->evidence, "acme-old", bad_keys,
                  SIGNETD_SEAL_ERROR_NO_PROFILE);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-old", psk_only,
                  SIGNETD_SEAL_ERROR_NO_PROFILE);
  /* For another model than the evidence's. */
  expect_refusal (f, &none, f->chain, f->evidence, "other-wifi", bad_keys,
                  SIGNETD_SEAL_ERROR_NO_PROFILE);
  expect_refusal (f, &good, f->chain, f->evidence, "other-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_NO_PROFILE);
  /* The evidence's model decides, not the certificate's name. */
  {
    g_autoptr(GBytes) kem_pub = signet_key_get_public_bytes (f->kem);
    g_autoptr(GBytes) gw2 = make_evidence (f->dev_key, SERIAL, "acme-gw2", kem_pub);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ok = NULL;

    expect_refusal (f, &good, f->chain, gw2, "acme-wifi", psk_only,
                    SIGNETD_SEAL_ERROR_NO_PROFILE);
    ok = run (f, &good, f->chain, gw2, "other-wifi", psk_only, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ok->len, ==, 1);
  }
}

static void
test_forbidden (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sp_cwt_claims no_scope = claims_with (NULL, 0, FALSE);
  sp_cwt_claims config_only = claims_with ("config.write log.read", 0, TRUE);
  sp_cwt_claims config_only_fresh = claims_with ("config.write log.read", f->now, TRUE);
  /* A word that only starts like the one needed. */
  sp_cwt_claims prefix = claims_with ("credential.rotatex credential", f->now, TRUE);
  sp_cwt_claims credential_only = claims_with ("credential.rotate", f->now, TRUE);
  g_autoptr(GPtrArray) ok = NULL;

  /* Scope before step-up and keys. */
  expect_refusal (f, &no_scope, f->chain, f->evidence, "acme-wifi", bad_keys,
                  SIGNETD_SEAL_ERROR_FORBIDDEN);
  expect_refusal (f, &config_only, f->chain, f->evidence, "acme-wifi", bad_keys,
                  SIGNETD_SEAL_ERROR_FORBIDDEN);
  expect_refusal (f, &config_only_fresh, f->chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_FORBIDDEN);
  expect_refusal (f, &prefix, f->chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_FORBIDDEN);
  /* The class's word is what counts: credential.rotate does not allow a
   * config profile, config.write does. */
  expect_refusal (f, &credential_only, f->chain, f->evidence, "acme-cfg", NULL,
                  SIGNETD_SEAL_ERROR_FORBIDDEN);
  ok = run (f, &config_only_fresh, f->chain, f->evidence, "acme-cfg",
            (const char * const[]) { "api.token", NULL }, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
}

/* The "step-up required" branch: a critical profile with a sign-in older
 * than SIGNETD_SEAL_STEP_UP_MAX_AGE is refused; a fresh one passes. */
static void
test_step_up (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 max_age = SIGNETD_SEAL_STEP_UP_MAX_AGE;
  sp_cwt_claims stale = claims_with (ALL_SCOPES, f->now - max_age - 1, TRUE);
  sp_cwt_claims very_stale = claims_with (ALL_SCOPES, f->now - 86400, TRUE);
  sp_cwt_claims no_auth_time = claims_with (ALL_SCOPES, 0, FALSE);
  sp_cwt_claims edge = claims_with (ALL_SCOPES, f->now - max_age, TRUE);
  sp_cwt_claims fresh = claims_with (ALL_SCOPES, f->now - 5, TRUE);
  const char * const token_only[] = { "api.token", NULL };

  g_assert_cmpint (max_age, ==, 300);   /* docs/api.md */
  /* Step-up before the keys are judged. */
  expect_refusal (f, &stale, f->chain, f->evidence, "acme-wifi", bad_keys,
                  SIGNETD_SEAL_ERROR_STEP_UP);
  expect_refusal (f, &stale, f->chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_STEP_UP);
  expect_refusal (f, &very_stale, f->chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_STEP_UP);
  expect_refusal (f, &no_auth_time, f->chain, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_STEP_UP);
  g_assert_nonnull (strstr (g_ptr_array_index (f->messages, f->messages->len - 1),
                            "step-up required"));
  /* A config profile marked critical needs it too. */
  expect_refusal (f, &stale, f->chain, f->evidence, "acme-cfg-crit", token_only,
                  SIGNETD_SEAL_ERROR_STEP_UP);

  /* At most 300 s old passes; so does a fresh sign-in. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GPtrArray) ok = run (f, i == 0 ? &edge : &fresh, f->chain, f->evidence,
                                     "acme-wifi", psk_only, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (ok->len, ==, 1);
    }
  /* A profile that is not critical does not ask for one. */
  {
    g_autoptr(GPtrArray) ok = run (f, &very_stale, f->chain, f->evidence, "acme-cfg",
                                   token_only, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ok->len, ==, 1);
  }
  {
    g_autoptr(GPtrArray) ok = run (f, &no_auth_time, f->chain, f->evidence, "acme-cfg",
                                   token_only, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (ok->len, ==, 1);
  }
}

static void
test_fields (Fixture       *f,
             gconstpointer  data)
{
  sp_cwt_claims good = claims_with (ALL_SCOPES, f->now, TRUE);
  const char * const empty[] = { NULL };
  const char * const unknown[] = { "wifi.psk", "wifi.nope", NULL };
  const char * const not_secret[] = { "wifi.ssid", NULL };
  const char * const not_secret_int[] = { "wifi.channel", NULL };
  const char * const twice[] = { "wifi.psk", "api.token", "wifi.psk", NULL };
  const char * const no_vault[] = { "local.pin", NULL };
  const char * const no_entry[] = { "gone", NULL };
  /* Vault names are not keys. */
  const char * const vault_name[] = { "site-a/wifi-psk", NULL };
  const char *too_many[SIGNETD_SEAL_FIELDS_MAX + 2];

  for (guint i = 0; i <= SIGNETD_SEAL_FIELDS_MAX; i++)
    too_many[i] = "wifi.psk";
  too_many[SIGNETD_SEAL_FIELDS_MAX + 1] = NULL;

  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", NULL, SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", empty, SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", unknown, SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", not_secret,
                  SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", not_secret_int,
                  SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", twice, SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", no_vault,
                  SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", no_entry,
                  SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", vault_name,
                  SIGNETD_SEAL_ERROR_FIELD);
  expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi", too_many,
                  SIGNETD_SEAL_ERROR_FIELD);

  /* A vault entry deleted after the profile was added. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (signetd_vault_delete (f->vault, "site-a/token", &error));
    expect_refusal (f, &good, f->chain, f->evidence, "acme-wifi",
                    (const char * const[]) { "wifi.psk", "api.token", NULL },
                    SIGNETD_SEAL_ERROR_FIELD);
  }
}

/* ---- what comes out ------------------------------------------------------- */

static GBytes *
info_for (const char *serial,
          const char *profile_id,
          const char *key)
{
  g_autoptr(GByteArray) info = g_byte_array_new ();

  g_byte_array_append (info, (const guint8 *) "signet-seal-v1", 14);
  g_byte_array_append (info, (const guint8 *) "", 1);
  g_byte_array_append (info, (const guint8 *) serial, (guint) strlen (serial));
  g_byte_array_append (info, (const guint8 *) "", 1);
  g_byte_array_append (info, (const guint8 *) profile_id, (guint) strlen (profile_id));
  g_byte_array_append (info, (const guint8 *) "", 1);
  g_byte_array_append (info, (const guint8 *) key, (guint) strlen (key));
  return g_byte_array_free_to_bytes (g_steal_pointer (&info));
}

/* SHA-256 of data, by GLib (not by the code under test). */
static GBytes *
sha256_of (GBytes *data)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (sum, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  g_checksum_get_digest (sum, digest, &len);
  return g_bytes_new (digest, len);
}

/* Open with proto's HPKE: the plaintext, or NULL if it does not open. */
static GBytes *
open_sealed (SignetKey *kem,
             GBytes    *info,
             GBytes    *aad,
             GBytes    *enc,
             GBytes    *ct)
{
  gsize ct_len = g_bytes_get_size (ct);
  g_autofree guint8 *pt = g_malloc (ct_len);
  sp_err err;

  g_assert_cmpuint (g_bytes_get_size (enc), ==, SP_HPKE_ENC_LEN);
  g_assert_cmpuint (ct_len, >=, SP_HPKE_TAG_LEN);
  err = sp_hpke_open_base (signet_crypto_port_openssl (), g_bytes_get_data (enc, NULL),
                           signet_key_get_sp_key (kem),
                           g_bytes_get_data (info, NULL), g_bytes_get_size (info),
                           g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                           g_bytes_get_data (ct, NULL), ct_len, pt);
  if (err != SP_OK)
    {
      g_assert_cmpint (err, ==, SP_ERR_AUTH);
      return NULL;
    }
  return g_bytes_new (pt, ct_len - SP_HPKE_TAG_LEN);
}

static void
test_sealed (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sp_cwt_claims good = claims_with ("credential.rotate", f->now - 60, TRUE);
  const char * const keys[] = { "api.token", "wifi.psk", NULL };
  const char * const values[] = { TOKEN, PSK };
  g_autofree char *serial = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(SignetdProfile) profile = NULL;
  g_autoptr(GBytes) form = NULL;
  g_autoptr(GBytes) aad = NULL;
  g_autoptr(GBytes) signed_form = NULL;
  g_autoptr(SignetKey) other_kem = signet_key_generate (&error);

  out = run (f, &good, f->chain, f->evidence, "acme-wifi", keys, &serial, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (serial, ==, SERIAL);
  g_assert_cmpuint (out->len, ==, 2);

  /* aad = SHA-256 of the device form, which is what the signed profile
   * carries as its payload. */
  profile = signetd_profiles_lookup (f->profiles, "acme-wifi", &error);
  g_assert_no_error (error);
  form = signetd_profile_encode (profile, &error);
  g_assert_no_error (error);
  signed_form = signetd_profiles_sign (f->profiles, form, &error);
  g_assert_no_error (error);
  {
    sp_cose_sign1 msg;

    g_assert_cmpint (sp_cose_sign1_decode (g_bytes_get_data (signed_form, NULL),
                                           g_bytes_get_size (signed_form), NULL, &msg), ==, SP_OK);
    g_assert_cmpmem (msg.payload, msg.payload_len, g_bytes_get_data (form, NULL),
                     g_bytes_get_size (form));
  }
  aad = sha256_of (form);

  for (guint i = 0; i < out->len; i++)
    {
      SignetdSealed *s = g_ptr_array_index (out, i);
      g_autoptr(GBytes) info = info_for (SERIAL, "acme-wifi", keys[i]);
      g_autoptr(GBytes) exposed = signetd_seal_info (SERIAL, "acme-wifi", keys[i]);
      g_autoptr(GBytes) plain = NULL;
      g_autoptr(GByteArray) both = g_byte_array_new ();
      g_autoptr(GBytes) both_bytes = NULL;
      g_autofree char *digest = NULL;

      /* In the order asked for. */
      g_assert_cmpstr (s->key, ==, keys[i]);
      g_assert_cmpuint (g_bytes_get_size (s->enc), ==, 65);
      g_assert_cmpuint (((const guint8 *) g_bytes_get_data (s->enc, NULL))[0], ==, 0x04);
      g_assert_cmpuint (g_bytes_get_size (s->ct), ==, strlen (values[i]) + 16);
      g_assert_true (g_bytes_equal (info, exposed));

      plain = open_sealed (f->kem, info, aad, s->enc, s->ct);
      g_assert_nonnull (plain);
      g_assert_cmpmem (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain), values[i],
                       strlen (values[i]));
      /* Core's HPKE opens it the same way. */
      {
        g_autoptr(GBytes) again = signet_hpke_open (f->kem, s->enc, info, aad, s->ct, &error);

        g_assert_no_error (error);
        g_assert_true (g_bytes_equal (again, plain));
      }

      /* digest = lower-case hex SHA-256 (enc || ct). */
      g_byte_array_append (both, g_bytes_get_data (s->enc, NULL), 65);
      g_byte_array_append (both, g_bytes_get_data (s->ct, NULL), (guint) g_bytes_get_size (s->ct));
      both_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&both));
      digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, both_bytes);
      g_assert_cmpstr (s->digest, ==, digest);
      /* Not a hash of the plaintext. */
      {
        g_autofree char *of_plain = g_compute_checksum_for_string (G_CHECKSUM_SHA256, values[i],
                                                                   -1);

        g_assert_cmpstr (s->digest, !=, of_plain);
      }

      /* Bound to this device, profile version, and key. */
      {
        g_autoptr(GBytes) other_serial = info_for (SERIAL2, "acme-wifi", keys[i]);
        g_autoptr(GBytes) other_profile = info_for (SERIAL, "acme-cfg", keys[i]);
        g_autoptr(GBytes) other_key = info_for (SERIAL, "acme-wifi", keys[1 - i]);
        g_autoptr(GBytes) no_aad = g_bytes_new_static ("", 0);
        g_autoptr(GBytes) p1 = open_sealed (other_kem, info, aad, s->enc, s->ct);
        g_autoptr(GBytes) p2 = open_sealed (f->kem, other_serial, aad, s->enc, s->ct);
        g_autoptr(GBytes) p3 = open_sealed (f->kem, other_profile, aad, s->enc, s->ct);
        g_autoptr(GBytes) p4 = open_sealed (f->kem, other_key, aad, s->enc, s->ct);
        g_autoptr(GBytes) p5 = open_sealed (f->kem, info, no_aad, s->enc, s->ct);
        g_autoptr(GBytes) p6 = open_sealed (f->kem, info, form, s->enc, s->ct);

        g_assert_null (p1);
        g_assert_null (p2);
        g_assert_null (p3);
        g_assert_null (p4);
        g_assert_null (p5);
        g_assert_null (p6);
      }
    }

  /* A new version of the profile: new aad; what was sealed for the old
   * one does not open with it. */
  {
    g_autoptr(GString) v4 = g_string_new (credential_profile);
    g_autoptr(SignetdProfile) p = NULL;
    g_autoptr(SignetdProfile) p4 = NULL;
    g_autoptr(GBytes) form4 = NULL;
    g_autoptr(GBytes) aad4 = NULL;
    g_autoptr(GPtrArray) out4 = NULL;
    g_autoptr(GBytes) info = info_for (SERIAL, "acme-wifi", "wifi.psk");
    SignetdSealed *old = g_ptr_array_index (out, 1);
    g_autoptr(GBytes) stale = NULL;
    g_autoptr(GBytes) fresh = NULL;

    g_string_replace (v4, "\"version\": 3", "\"version\": 4", 1);
    p = signetd_profiles_add (f->profiles, v4->str, v4->len, f->now, &error);
    g_assert_no_error (error);
    p4 = signetd_profiles_lookup (f->profiles, "acme-wifi", &error);
    form4 = signetd_profile_encode (p4, &error);
    aad4 = sha256_of (form4);
    g_assert_false (g_bytes_equal (aad, aad4));
    stale = open_sealed (f->kem, info, aad4, old->enc, old->ct);
    g_assert_null (stale);
    out4 = run (f, &good, f->chain, f->evidence, "acme-wifi", psk_only, NULL, &error);
    g_assert_no_error (error);
    fresh = open_sealed (f->kem, info, aad4, ((SignetdSealed *) g_ptr_array_index (out4, 0))->enc,
                         ((SignetdSealed *) g_ptr_array_index (out4, 0))->ct);
    g_assert_nonnull (fresh);
  }

  /* Sealing again gives a new ephemeral key, hence new bytes and digest. */
  {
    g_autoptr(GPtrArray) again = run (f, &good, f->chain, f->evidence, "acme-wifi", psk_only,
                                      NULL, &error);
    SignetdSealed *a = g_ptr_array_index (again, 0);
    SignetdSealed *b = g_ptr_array_index (out, 1);

    g_assert_no_error (error);
    g_assert_false (g_bytes_equal (a->enc, b->enc));
    g_assert_cmpstr (a->digest, !=, b->digest);
  }
}

/* A chain with the root included, and one through an intermediate CA. */
static void
test_chains (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  sp_cwt_claims good = claims_with (ALL_SCOPES, f->now, TRUE);
  g_autoptr(GPtrArray) with_root = chain_of (f->dev_der, f->ca_der);
  g_autoptr(SignetKey) int_key = signet_key_generate (&error);
  g_autoptr(GBytes) int_der = issue (f, f->ca_key, f->ca_der, int_key, "Acme Line 3 CA", NULL,
                                     TRUE, 3650);
  g_autoptr(SignetKey) dev3_key = signet_key_generate (&error);
  g_autoptr(GBytes) dev3_der = issue (f, int_key, int_der, dev3_key, "acme-gw1 SN-0003",
                                      "SN-0003", FALSE, 365);
  g_autoptr(GPtrArray) via_int = chain_of (dev3_der, int_der);
  g_autoptr(GPtrArray) missing_int = chain_of (dev3_der, NULL);
  g_autoptr(GBytes) kem_pub = signet_key_get_public_bytes (f->kem);
  g_autoptr(GBytes) ev3 = make_evidence (dev3_key, "SN-0003", MODEL, kem_pub);
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autofree char *serial = NULL;

  g_assert_no_error (error);
  a = run (f, &good, with_root, f->evidence, "acme-wifi", psk_only, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (a);
  b = run (f, &good, via_int, ev3, "acme-wifi", psk_only, &serial, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (serial, ==, "SN-0003");
  expect_refusal (f, &good, missing_int, ev3, "acme-wifi", psk_only, SIGNETD_SEAL_ERROR_UNTRUSTED);
  /* The evidence of one device with the chain of another. */
  expect_refusal (f, &good, via_int, f->evidence, "acme-wifi", psk_only,
                  SIGNETD_SEAL_ERROR_BAD_EVIDENCE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/signetd/seal/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("1-untrusted", test_untrusted);
  ADD ("1-revoked", test_revoked);
  ADD ("2-bad-evidence", test_bad_evidence);
  ADD ("3-no-profile", test_no_profile);
  ADD ("4-forbidden", test_forbidden);
  ADD ("4-step-up", test_step_up);
  ADD ("5-fields", test_fields);
  ADD ("sealed", test_sealed);
  ADD ("chains", test_chains);
#undef ADD
  return g_test_run ();
}
