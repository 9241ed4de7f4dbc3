/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-profiles.h: device profiles (DESIGN.md §3 "Secrets and
 * profiles"; docs/api.md "Profiles").
 *
 * An administrator writes a profile as JSON (signetd profile add FILE):
 * the model it fits, its operation class, whether it is critical, and the
 * keys it sets with their types and ranges, which are secret, and which
 * vault entry a secret comes from. signetd_profile_parse() validates it
 * strictly and reports every problem it finds, each naming its member
 * ("fields[1].max: ..."). A profile's version only rises for its id,
 * across removals too.
 *
 * Devices get a profile as a tagged COSE_Sign1 by the current authority
 * key, content type "application/signet-profile+cbor", over its device
 * form: deterministic CBOR with small integer keys, without the vault
 * names (signetd_profile_encode()). The form must fit the device link's
 * default CBOR limits (sp-cbor.h), or the profile is refused at add
 * time. Secrets sealed for a profile carry SHA-256 of that payload as
 * HPKE aad (signetd-seal.h).
 *
 * Borrows the store and the keys.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "signetd-keys.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_PROFILES_ERROR (signetd_profiles_error_quark ())
GQuark signetd_profiles_error_quark (void);

typedef enum {
  SIGNETD_PROFILES_ERROR_FAILED,
  SIGNETD_PROFILES_ERROR_INVALID,    /* the document breaks the rules (the message lists how) */
  SIGNETD_PROFILES_ERROR_VERSION,    /* the version does not rise above the id's last one */
  SIGNETD_PROFILES_ERROR_NOT_FOUND,  /* no profile has this id */
} SignetdProfilesError;

#define SIGNETD_PROFILE_CONTENT_TYPE "application/signet-profile+cbor"

#define SIGNETD_PROFILE_ID_MAX 64
#define SIGNETD_PROFILE_MODEL_MAX 64        /* = SP_EVIDENCE_TEXT_MAX */
#define SIGNETD_PROFILE_DESCRIPTION_MAX 256
#define SIGNETD_PROFILE_FIELDS_MAX 64
#define SIGNETD_PROFILE_KEY_MAX 64
#define SIGNETD_PROFILE_VALUES_MAX 64
#define SIGNETD_PROFILE_VALUE_LEN_MAX 64
#define SIGNETD_PROFILE_STRING_LEN_MAX 4096 /* string min/max bound */
#define SIGNETD_PROFILE_DOCUMENT_MAX (64 * 1024)

/* The numbers are the device form's (docs/api.md). */
typedef enum {
  SIGNETD_PROFILE_CLASS_CONFIG = 1,
  SIGNETD_PROFILE_CLASS_CREDENTIAL = 2,
  SIGNETD_PROFILE_CLASS_FIRMWARE = 3,
} SignetdProfileClass;

typedef enum {
  SIGNETD_FIELD_STRING = 1,
  SIGNETD_FIELD_INT = 2,
  SIGNETD_FIELD_BOOL = 3,
  SIGNETD_FIELD_ENUM = 4,
} SignetdFieldType;

typedef struct {
  char *key;
  SignetdFieldType type;
  gboolean has_min;
  gboolean has_max;
  gint64 min;          /* int: the value; string: the length in bytes */
  gint64 max;
  GStrv values;        /* enum only, else NULL */
  gboolean secret;
  char *vault;         /* nullable; only with secret */
} SignetdProfileField;

typedef struct {
  char *id;
  gint64 version;
  char *model;
  SignetdProfileClass klass;
  gboolean critical;
  char *description;   /* "" when not given */
  GPtrArray *fields;   /* (element-type SignetdProfileField), sorted by key */
} SignetdProfile;

void signetd_profile_free (SignetdProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdProfile, signetd_profile_free)

/* Parse and validate a JSON profile. SIGNETD_PROFILES_ERROR_INVALID with
 * every problem found, one per line. Returns: (transfer full) (nullable) */
SignetdProfile *signetd_profile_parse      (const char      *json,
                                            gsize            len,
                                            GError         **error);

/* The profile as JSON, as docs/api.md serves it; with include_vault also
 * the vault names (the stored form). Returns: (transfer full) */
JsonNode       *signetd_profile_to_json    (const SignetdProfile *profile,
                                            gboolean              include_vault);

/* The device form (deterministic CBOR). Returns: (transfer full) (nullable) */
GBytes         *signetd_profile_encode     (const SignetdProfile *profile,
                                            GError              **error);

/* The field with this key, or NULL. Returns: (transfer none) (nullable) */
const SignetdProfileField *signetd_profile_find_field (const SignetdProfile *profile,
                                                       const char           *key);

const char     *signetd_profile_class_to_string (SignetdProfileClass klass);

/* The scope word a token needs for this class ("config.write",
 * "credential.rotate", "firmware.update"). */
const char     *signetd_profile_class_scope     (SignetdProfileClass klass);

typedef struct _SignetdProfiles SignetdProfiles;

/* Returns: (transfer full) */
SignetdProfiles *signetd_profiles_new      (SignetdStore    *store,
                                            SignetdKeys     *keys);
void             signetd_profiles_free     (SignetdProfiles *self);

/* Validate and store a JSON profile (replacing an older version of the
 * same id). Returns: (transfer full) (nullable): the stored profile */
SignetdProfile  *signetd_profiles_add      (SignetdProfiles *self,
                                            const char      *json,
                                            gsize            len,
                                            gint64           now,
                                            GError         **error);

/* Served profiles (not removed), by id; model NULL for all.
 * Returns: (transfer full) (element-type SignetdProfile) (nullable) */
GPtrArray       *signetd_profiles_list     (SignetdProfiles *self,
                                            const char      *model,
                                            GError         **error);

/* Returns: (transfer full) (nullable): NOT_FOUND for an unknown or
 * removed id */
SignetdProfile  *signetd_profiles_lookup   (SignetdProfiles *self,
                                            const char      *id,
                                            GError         **error);

/* Stop serving a profile; its id keeps its last version. */
gboolean         signetd_profiles_remove   (SignetdProfiles *self,
                                            const char      *id,
                                            gint64           now,
                                            GError         **error);

/* The signed profile: a tagged COSE_Sign1 by the current authority key
 * over payload (signetd_profile_encode()).
 * Returns: (transfer full) (nullable) */
GBytes          *signetd_profiles_sign     (SignetdProfiles *self,
                                            GBytes          *payload,
                                            GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdProfiles, signetd_profiles_free)

G_END_DECLS
