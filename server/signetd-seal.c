/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-crypto-port.h"
#include "signet-crypto.h"
#include "signet-hpke.h"
#include "signet-x509.h"
#include "signetd-seal.h"
#include "sp-evidence.h"

struct _SignetdSeal {
  SignetdTrust *trust;        /* borrowed */
  SignetdProfiles *profiles;  /* borrowed */
  SignetdVault *vault;        /* borrowed */
};

G_DEFINE_QUARK (signetd-seal-error-quark, signetd_seal_error)

void
signetd_sealed_free (SignetdSealed *s)
{
  if (s == NULL)
    return;
  g_free (s->key);
  g_clear_pointer (&s->enc, g_bytes_unref);
  g_clear_pointer (&s->ct, g_bytes_unref);
  g_free (s->digest);
  g_free (s);
}

SignetdSeal *
signetd_seal_new (SignetdTrust    *trust,
                  SignetdProfiles *profiles,
                  SignetdVault    *vault)
{
  SignetdSeal *self = g_new0 (SignetdSeal, 1);

  self->trust = trust;
  self->profiles = profiles;
  self->vault = vault;
  return self;
}

void
signetd_seal_free (SignetdSeal *self)
{
  g_free (self);
}

static char *
hex_of (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (bytes, &len);
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

GBytes *
signetd_seal_info (const char *serial,
                   const char *profile_id,
                   const char *key)
{
  GByteArray *info = g_byte_array_new ();
  const char *parts[] = { SIGNETD_SEAL_INFO_LABEL, serial, profile_id, key };

  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      if (i > 0)
        g_byte_array_append (info, (const guint8 *) "", 1);
      g_byte_array_append (info, (const guint8 *) parts[i], (guint) strlen (parts[i]));
    }
  return g_byte_array_free_to_bytes (info);
}

static gboolean
verify_chain (SignetdSeal  *self,
              GPtrArray    *chain,
              gint64        now,
              SignetKey   **out_leaf,
              char        **out_serial,
              GError      **error)
{
  g_autoptr(GPtrArray) anchors = NULL;
  g_auto(GStrv) revoked = NULL;
  g_autoptr(GError) local_error = NULL;

  anchors = signetd_trust_dup_ca_ders (self->trust, error);
  if (anchors == NULL)
    return FALSE;
  revoked = signetd_trust_dup_revoked_serials (self->trust, error);
  if (revoked == NULL)
    return FALSE;
  if (signet_x509_verify_chain (chain, anchors, (const char * const *) revoked, now, out_leaf,
                                out_serial, &local_error))
    return TRUE;

  if (local_error->domain != SIGNET_X509_ERROR || local_error->code == SIGNET_X509_ERROR_FAILED)
    g_propagate_error (error, g_steal_pointer (&local_error));
  else if (local_error->code == SIGNET_X509_ERROR_REVOKED)
    g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_REVOKED,
                 "revoked device: %s", local_error->message);
  else if (local_error->code == SIGNET_X509_ERROR_INVALID)
    g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_INVALID,
                 "chain: %s", local_error->message);
  else
    g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_UNTRUSTED,
                 "untrusted device: %s", local_error->message);
  return FALSE;
}

static gboolean
check_scope (const SignetdProfile *profile,
             const sp_cwt_claims  *claims,
             gint64                now,
             GError              **error)
{
  const char *word = signetd_profile_class_scope (profile->klass);

  if (!sp_cwt_scope_has (claims, word))
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FORBIDDEN,
                   "the token's scope does not allow %s (class %s)", word,
                   signetd_profile_class_to_string (profile->klass));
      return FALSE;
    }
  if (profile->critical &&
      sp_cwt_check_auth_age (claims, now, SIGNETD_SEAL_STEP_UP_MAX_AGE) != SP_OK)
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_STEP_UP,
                   "step-up required: profile %s is critical and the sign-in is older than "
                   "%d s", profile->id, SIGNETD_SEAL_STEP_UP_MAX_AGE);
      return FALSE;
    }
  return TRUE;
}

/* The vault name of each key, after checking it is a secret field with
 * a vault entry, named once. */
static GStrv
resolve_fields (SignetdSeal          *self,
                const SignetdProfile *profile,
                const char * const   *keys,
                GError              **error)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  guint n = keys != NULL ? g_strv_length ((GStrv) keys) : 0;

  if (n == 0 || n > SIGNETD_SEAL_FIELDS_MAX)
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FIELD,
                   "fields: 1 to %d keys", SIGNETD_SEAL_FIELDS_MAX);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      const SignetdProfileField *f = signetd_profile_find_field (profile, keys[i]);
      g_autoptr(GError) local_error = NULL;

      for (guint j = 0; j < i; j++)
        if (g_str_equal (keys[i], keys[j]))
          {
            g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FIELD,
                         "fields[%u]: the same key as fields[%u]", i, j);
            return NULL;
          }
      if (f == NULL)
        {
          g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FIELD,
                       "fields[%u]: not a field of profile %s", i, profile->id);
          return NULL;
        }
      if (!f->secret)
        {
          g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FIELD,
                       "fields[%u]: %s is not a secret field", i, f->key);
          return NULL;
        }
      if (f->vault == NULL)
        {
          g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FIELD,
                       "fields[%u]: %s does not come from the vault", i, f->key);
          return NULL;
        }
      if (!signetd_vault_exists (self->vault, f->vault, &local_error))
        {
          if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_FIELD,
                         "fields[%u]: the vault has no entry for %s", i, f->key);
          return NULL;
        }
      g_strv_builder_add (b, f->vault);
    }
  return g_strv_builder_end (b);
}

GPtrArray *
signetd_seal_run (SignetdSeal          *self,
                  const sp_cwt_claims  *claims,
                  GPtrArray            *chain,
                  GBytes               *evidence,
                  const char           *profile_id,
                  const char * const   *keys,
                  gint64                now,
                  char                **out_serial,
                  GError              **error)
{
  g_autoptr(SignetKey) leaf = NULL;
  g_autoptr(SignetKey) kem = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *ev_serial = NULL;
  g_autofree char *ev_model = NULL;
  g_autoptr(GBytes) leaf_pub = NULL;
  g_autoptr(GBytes) kem_pub = NULL;
  g_autoptr(SignetdProfile) profile = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) aad = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) vault_names = NULL;
  g_autoptr(GPtrArray) out = NULL;
  sp_evidence ev;
  sp_err err;
  gsize ev_len = 0;
  const guint8 *ev_data = g_bytes_get_data (evidence, &ev_len);

  /* 1. The device is one a trusted manufacturer made, not revoked. */
  if (!verify_chain (self, chain, now, &leaf, &serial, error))
    return NULL;

  /* 2. Its identity key signed this evidence, for this serial. */
  leaf_pub = signet_key_get_public_bytes (leaf);
  err = sp_evidence_verify (signet_crypto_port_openssl (), ev_data, ev_len,
                            g_bytes_get_data (leaf_pub, NULL), &ev);
  if (err != SP_OK)
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_BAD_EVIDENCE,
                   "evidence: %s", sp_strerror (err));
      return NULL;
    }
  ev_serial = g_strndup (ev.serial, ev.serial_len);
  if (strlen (ev_serial) != ev.serial_len || !g_str_equal (ev_serial, serial))
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_BAD_EVIDENCE,
                   "evidence: its serial is not the certificate's");
      return NULL;
    }
  ev_model = g_strndup (ev.model, ev.model_len);
  kem_pub = g_bytes_new (ev.kem_pub, SP_EVIDENCE_KEM_PUB_LEN);
  kem = signet_key_new_from_public_bytes (kem_pub, &local_error);
  if (kem == NULL)
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_BAD_EVIDENCE,
                   "evidence: kem_pub is not a P-256 public key");
      return NULL;
    }

  /* 3. The profile, for this model. */
  profile = signetd_profiles_lookup (self->profiles, profile_id, &local_error);
  if (profile == NULL)
    {
      if (g_error_matches (local_error, SIGNETD_PROFILES_ERROR,
                           SIGNETD_PROFILES_ERROR_NOT_FOUND))
        g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_NO_PROFILE,
                     "no such profile");
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (strlen (ev_model) != ev.model_len || !g_str_equal (profile->model, ev_model))
    {
      g_set_error (error, SIGNETD_SEAL_ERROR, SIGNETD_SEAL_ERROR_NO_PROFILE,
                   "profile %s is not for this device's model", profile->id);
      return NULL;
    }

  /* 4. The caller may do this, now. 5. The fields. */
  if (!check_scope (profile, claims, now, error))
    return NULL;
  vault_names = resolve_fields (self, profile, keys, error);
  if (vault_names == NULL)
    return NULL;

  payload = signetd_profile_encode (profile, error);
  if (payload == NULL)
    return NULL;
  aad = signet_sha256 (payload);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) signetd_sealed_free);
  for (guint i = 0; vault_names[i] != NULL; i++)
    {
      g_autoptr(SignetdSealed) s = g_new0 (SignetdSealed, 1);
      g_autoptr(GBytes) value = signetd_vault_dup_value (self->vault, vault_names[i], error);
      g_autoptr(GBytes) info = NULL;
      g_autoptr(GByteArray) both = NULL;
      g_autoptr(GBytes) both_bytes = NULL;
      g_autoptr(GBytes) digest = NULL;

      if (value == NULL)
        return NULL;
      info = signetd_seal_info (serial, profile->id, keys[i]);
      s->key = g_strdup (keys[i]);
      s->ct = signet_hpke_seal (kem, info, aad, value, &s->enc, error);
      if (s->ct == NULL)
        return NULL;
      both = g_byte_array_new ();
      g_byte_array_append (both, g_bytes_get_data (s->enc, NULL),
                           (guint) g_bytes_get_size (s->enc));
      g_byte_array_append (both, g_bytes_get_data (s->ct, NULL), (guint) g_bytes_get_size (s->ct));
      both_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&both));
      digest = signet_sha256 (both_bytes);
      s->digest = hex_of (digest);
      g_ptr_array_add (out, g_steal_pointer (&s));
    }
  if (out_serial != NULL)
    *out_serial = g_steal_pointer (&serial);
  return g_steal_pointer (&out);
}
