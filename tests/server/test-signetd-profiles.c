/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-profiles: the profile rules of docs/api.md "Profiles",
 * one document per rule breaking exactly that rule (the error must name
 * the member), several problems at once, unknown members at every level;
 * versions that only rise, across removal too; the device form, byte for
 * byte, and its signature by the authority key.
 */
#define _GNU_SOURCE   /* memmem */
#include "config.h"

#include <string.h>

#include "signet-crypto-port.h"
#include "signet-secret.h"
#include "signet-test-util.h"
#include "signetd-profiles.h"
#include "signetd-vault.h"
#include "sp-cbor.h"
#include "sp-cose.h"

/* docs/api.md's example, as it stands there. fields[0] wifi.ssid (string
 * 1..32), [1] wifi.psk (secret, from the vault), [2] wifi.channel (int
 * 1..13), [3] wifi.band (enum). */
static const char example[] =
  "{\"id\": \"acme-wifi\", \"version\": 3, \"model\": \"acme-gw1\", \"class\": \"credential\",\n"
  " \"critical\": true, \"description\": \"Site Wi-Fi credentials\",\n"
  " \"fields\": [\n"
  "   {\"key\": \"wifi.ssid\", \"type\": \"string\", \"min\": 1, \"max\": 32},\n"
  "   {\"key\": \"wifi.psk\", \"type\": \"string\", \"min\": 8, \"max\": 63, \"secret\": true,\n"
  "    \"vault\": \"site-a/wifi-psk\"},\n"
  "   {\"key\": \"wifi.channel\", \"type\": \"int\", \"min\": 1, \"max\": 13},\n"
  "   {\"key\": \"wifi.band\", \"type\": \"enum\", \"values\": [\"2g4\", \"5g\"]}]}\n";

/* Its device form (docs/api.md), written out by hand: a map of 7 with
 * fields sorted shorter key first, then bytewise: wifi.psk, wifi.band,
 * wifi.ssid, wifi.channel -- not the document's order, nor plain
 * bytewise order. */
static const char example_device_form[] =
  "a7"
  "01 69 61636d652d77696669"                          /* 1: "acme-wifi" */
  "02 03"                                             /* 2: 3 */
  "03 68 61636d652d677731"                            /* 3: "acme-gw1" */
  "04 02"                                             /* 4: credential */
  "05 f5"                                             /* 5: true */
  "06 76 536974652057692d46692063726564656e7469616c73" /* 6: description */
  "07 84"                                             /* 7: 4 fields */
  "a5 01 68 776966692e70736b 02 01 03 08 04 183f 06 f5"   /* wifi.psk, secret */
  "a4 01 69 776966692e62616e64 02 04 05 82 63 326734 62 3567 06 f4" /* wifi.band */
  "a5 01 69 776966692e73736964 02 01 03 01 04 1820 06 f4" /* wifi.ssid */
  "a5 01 6c 776966692e6368616e6e656c 02 02 03 01 04 0d 06 f4"; /* wifi.channel */

/* ---- helpers -------------------------------------------------------------- */

/* json with one change at path ("member" or "fields[N].member"): value
 * is JSON text, or NULL to remove the member. */
static char *
mutate (const char *json,
        const char *path,
        const char *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = json_from_string (json, &error);
  JsonObject *obj;
  const char *member = path;

  g_assert_no_error (error);
  obj = json_node_get_object (root);
  if (g_str_has_prefix (path, "fields["))
    {
      char *end = NULL;
      guint64 index = g_ascii_strtoull (path + 7, &end, 10);

      g_assert_true (end[0] == ']' && end[1] == '.');
      member = end + 2;
      obj = json_array_get_object_element (json_object_get_array_member (obj, "fields"),
                                           (guint) index);
    }
  if (value == NULL)
    {
      g_assert_true (json_object_has_member (obj, member));
      json_object_remove_member (obj, member);
    }
  else
    {
      JsonNode *node = json_from_string (value, &error);

      g_assert_no_error (error);
      json_object_set_member (obj, member, node);
    }
  return json_to_string (root, FALSE);
}

/* A JSON string of n copies of c. */
static char *
json_string_of (gsize n,
                char  c)
{
  g_autofree char *s = g_strnfill (n, c);

  return g_strdup_printf ("\"%s\"", s);
}

static SignetdProfile *
parse (const char  *json,
       GError     **error)
{
  return signetd_profile_parse (json, strlen (json), error);
}

static SignetdProfile *
parse_ok (const char *json)
{
  g_autoptr(GError) error = NULL;
  SignetdProfile *p = parse (json, &error);

  if (p == NULL)
    g_error ("refused: %s\n%s", error->message, json);
  return p;
}

/* The message lists exactly the members in wheres, one line each:
 * "N problem(s) in the profile:\n  WHERE: ...". */
static void
assert_problems (const char          *json,
                 const char * const  *wheres)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdProfile) p = parse (json, &error);
  g_auto(GStrv) lines = NULL;
  guint n = g_strv_length ((GStrv) wheres);
  g_autofree char *head = g_strdup_printf ("%u problem%s in the profile:", n, n == 1 ? "" : "s");

  if (p != NULL)
    g_error ("accepted, expected %s:\n%s", wheres[0], json);
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
  lines = g_strsplit (error->message, "\n", -1);
  if (g_strv_length (lines) != n + 1 || !g_str_equal (lines[0], head))
    g_error ("expected %u problems, got: %s\n%s", n, error->message, json);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("  %s: ", wheres[i]);
      gboolean found = FALSE;

      for (guint j = 1; lines[j] != NULL; j++)
        found = found || g_str_has_prefix (lines[j], prefix);
      if (!found)
        g_error ("no problem names %s: %s\n%s", wheres[i], error->message, json);
    }
}

static void
assert_one_problem (const char *json,
                    const char *where)
{
  const char *wheres[] = { where, NULL };

  assert_problems (json, wheres);
}

static SignetdKeys *
make_keys (SignetdStore *store)
{
  guint8 k[SIGNETD_MASTER_KEY_LEN];
  g_autoptr(GBytes) master = NULL;

  memset (k, 0x42, sizeof k);
  master = signet_secret_bytes_new (k, sizeof k);
  return signetd_keys_new_with_master (master, store);
}

/* ---- parsing -------------------------------------------------------------- */

static void
test_example (void)
{
  g_autoptr(SignetdProfile) p = parse_ok (example);
  const char *order[] = { "wifi.psk", "wifi.band", "wifi.ssid", "wifi.channel" };
  const SignetdProfileField *f;

  g_assert_cmpstr (p->id, ==, "acme-wifi");
  g_assert_cmpint (p->version, ==, 3);
  g_assert_cmpstr (p->model, ==, "acme-gw1");
  g_assert_cmpint (p->klass, ==, SIGNETD_PROFILE_CLASS_CREDENTIAL);
  g_assert_true (p->critical);
  g_assert_cmpstr (p->description, ==, "Site Wi-Fi credentials");
  g_assert_cmpuint (p->fields->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpstr (((SignetdProfileField *) g_ptr_array_index (p->fields, i))->key, ==,
                     order[i]);

  f = signetd_profile_find_field (p, "wifi.psk");
  g_assert_nonnull (f);
  g_assert_cmpint (f->type, ==, SIGNETD_FIELD_STRING);
  g_assert_true (f->has_min && f->has_max);
  g_assert_cmpint (f->min, ==, 8);
  g_assert_cmpint (f->max, ==, 63);
  g_assert_true (f->secret);
  g_assert_cmpstr (f->vault, ==, "site-a/wifi-psk");
  g_assert_null (f->values);

  f = signetd_profile_find_field (p, "wifi.band");
  g_assert_cmpint (f->type, ==, SIGNETD_FIELD_ENUM);
  g_assert_false (f->has_min || f->has_max);
  g_assert_cmpuint (g_strv_length (f->values), ==, 2);
  g_assert_cmpstr (f->values[0], ==, "2g4");
  g_assert_cmpstr (f->values[1], ==, "5g");
  g_assert_false (f->secret);
  g_assert_null (f->vault);

  f = signetd_profile_find_field (p, "wifi.channel");
  g_assert_cmpint (f->type, ==, SIGNETD_FIELD_INT);
  g_assert_cmpint (f->min, ==, 1);
  g_assert_cmpint (f->max, ==, 13);
  g_assert_null (signetd_profile_find_field (p, "wifi"));
  g_assert_null (signetd_profile_find_field (p, "wifi.psk2"));

  g_assert_cmpstr (signetd_profile_class_to_string (p->klass), ==, "credential");
  g_assert_cmpstr (signetd_profile_class_scope (SIGNETD_PROFILE_CLASS_CONFIG), ==, "config.write");
  g_assert_cmpstr (signetd_profile_class_scope (SIGNETD_PROFILE_CLASS_CREDENTIAL), ==,
                   "credential.rotate");
  g_assert_cmpstr (signetd_profile_class_scope (SIGNETD_PROFILE_CLASS_FIRMWARE), ==,
                   "firmware.update");
}

/* What the rules allow at their edges. */
static void
test_accepted (void)
{
  struct {
    const char *path;
    const char *value;
  } cases[] = {
    { "description", NULL },                         /* optional, "" */
    { "description", "\"\"" },
    { "class", "\"config\"" },                       /* config may be critical */
    { "version", "0" },
    { "version", "9007199254740993" },
    { "id", "\"a.b_c-0\"" },
    { "model", "\"Ger\\u00e4t 7/x\"" },              /* any UTF-8 without controls */
    { "fields", "[]" },
    { "fields[0].min", NULL },
    { "fields[0].min", "0" },
    { "fields[0].max", "4096" },
    { "fields[0].max", "1" },                        /* min == max */
    { "fields[2].min", "-40" },                      /* an int range may be negative */
    { "fields[2].max", "9223372036854775807" },
    { "fields[0].secret", "true" },                  /* a secret without a vault entry */
    { "fields[0].secret", "false" },
    { "fields[1].vault", NULL },
    { "fields[1].vault", "\"a/b.c/d_e-f\"" },
    { "fields[3].values", "[\"x\"]" },
    { "fields[0].key", "\"a\"" },
    { "fields[0].key", "\"a-b_c.0.d\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = mutate (example, cases[i].path, cases[i].value);
      g_autoptr(SignetdProfile) p = parse_ok (json);

      g_assert_cmpstr (p->model, !=, "");
    }

  /* Config profiles need not be critical; the longest values fit. */
  {
    g_autofree char *a = mutate (example, "class", "\"config\"");
    g_autofree char *b = mutate (a, "critical", "false");
    g_autofree char *id = json_string_of (SIGNETD_PROFILE_ID_MAX, 'i');
    g_autofree char *model = json_string_of (SIGNETD_PROFILE_MODEL_MAX, 'm');
    g_autofree char *desc = json_string_of (SIGNETD_PROFILE_DESCRIPTION_MAX, 'd');
    g_autofree char *key = json_string_of (SIGNETD_PROFILE_KEY_MAX, 'k');
    g_autofree char *c = mutate (b, "id", id);
    g_autofree char *d = mutate (c, "model", model);
    g_autofree char *e = mutate (d, "description", desc);
    g_autofree char *g = mutate (e, "fields[0].key", key);
    g_autoptr(SignetdProfile) p = parse_ok (g);

    g_assert_false (p->critical);
    g_assert_cmpuint (strlen (p->id), ==, SIGNETD_PROFILE_ID_MAX);
    g_assert_cmpstr (signetd_profile_find_field (p, "wifi.psk")->vault, ==, "site-a/wifi-psk");
  }
  /* A model of 64 bytes that are 32 two-byte characters. */
  {
    g_autoptr(GString) model = g_string_new ("\"");
    g_autofree char *json = NULL;
    g_autoptr(SignetdProfile) p = NULL;

    for (guint i = 0; i < 32; i++)
      g_string_append (model, "\xc3\xa9");
    g_string_append_c (model, '"');
    json = mutate (example, "model", model->str);
    p = parse_ok (json);
    g_assert_cmpuint (strlen (p->model), ==, 64);
  }
  /* 64 enum values of 64 bytes each. */
  {
    g_autoptr(GString) values = g_string_new ("[");
    g_autofree char *json = NULL;
    g_autoptr(SignetdProfile) p = NULL;

    for (guint i = 0; i < SIGNETD_PROFILE_VALUES_MAX; i++)
      g_string_append_printf (values, "%s\"%062u..\"", i > 0 ? "," : "", i);
    g_string_append_c (values, ']');
    json = mutate (example, "fields[3].values", values->str);
    p = parse_ok (json);
    g_assert_cmpuint (g_strv_length (signetd_profile_find_field (p, "wifi.band")->values), ==,
                      SIGNETD_PROFILE_VALUES_MAX);
    g_assert_cmpuint (strlen (signetd_profile_find_field (p, "wifi.band")->values[63]), ==, 64);
  }
}

/* Every rule of the table in docs/api.md "Profiles", each broken alone:
 * exactly one problem, naming the member. */
static void
test_rules (void)
{
  struct {
    const char *path;
    const char *value;      /* NULL: remove */
    const char *where;
  } cases[] = {
    /* id: required; [a-z0-9._-]{1,64} */
    { "id", NULL, "id" },
    { "id", "\"\"", "id" },
    { "id", "\"Acme-wifi\"", "id" },
    { "id", "\"acme wifi\"", "id" },
    { "id", "\"acme/wifi\"", "id" },
    { "id", "\"acme-w\\u00effi\"", "id" },
    { "id", "42", "id" },
    { "id", "null", "id" },
    { "id", "[\"acme-wifi\"]", "id" },
    /* version: required; integer >= 0 */
    { "version", NULL, "version" },
    { "version", "-1", "version" },
    { "version", "1.5", "version" },
    { "version", "3.0", "version" },
    { "version", "\"3\"", "version" },
    { "version", "true", "version" },
    { "version", "null", "version" },
    /* model: required; 1 to 64 bytes of UTF-8, no control characters */
    { "model", NULL, "model" },
    { "model", "\"\"", "model" },
    { "model", "\"acme\\ngw1\"", "model" },
    { "model", "\"acme\\u0007\"", "model" },
    { "model", "\"acme\\u0085\"", "model" },      /* a C1 control */
    { "model", "\"acme\\u007f\"", "model" },
    { "model", "7", "model" },
    { "model", "{}", "model" },
    /* class: required; config, credential or firmware */
    { "class", NULL, "class" },
    { "class", "\"admin\"", "class" },
    { "class", "\"Config\"", "class" },
    { "class", "\"\"", "class" },
    { "class", "2", "class" },
    { "class", "null", "class" },
    /* critical: required; bool; true for credential and firmware */
    { "critical", NULL, "critical" },
    { "critical", "\"yes\"", "critical" },
    { "critical", "1", "critical" },
    { "critical", "null", "critical" },
    { "critical", "false", "critical" },
    /* description: optional; at most 256 bytes */
    { "description", "5", "description" },
    { "description", "null", "description" },
    { "description", "\"a\\tb\"", "description" },
    /* fields: required; an array of at most 64 */
    { "fields", NULL, "fields" },
    { "fields", "{}", "fields" },
    { "fields", "\"wifi\"", "fields" },
    { "fields", "null", "fields" },
    /* fields[].key: required; dotted name of [a-z0-9_-] segments; unique */
    { "fields[0].key", NULL, "fields[0].key" },
    { "fields[0].key", "\"\"", "fields[0].key" },
    { "fields[0].key", "\"Wifi.ssid\"", "fields[0].key" },
    { "fields[0].key", "\".ssid\"", "fields[0].key" },
    { "fields[0].key", "\"wifi.\"", "fields[0].key" },
    { "fields[0].key", "\"wifi..ssid\"", "fields[0].key" },
    { "fields[0].key", "\".\"", "fields[0].key" },
    { "fields[0].key", "\"wifi/ssid\"", "fields[0].key" },
    { "fields[0].key", "\"wifi ssid\"", "fields[0].key" },
    { "fields[0].key", "5", "fields[0].key" },
    { "fields[1].key", "\"wifi.ssid\"", "fields[1].key" },    /* a duplicate */
    { "fields[3].key", "\"wifi.ssid\"", "fields[3].key" },
    /* fields[].type: required; string, int, bool or enum */
    { "fields[2].type", NULL, "fields[2].type" },
    { "fields[0].type", "\"float\"", "fields[0].type" },
    { "fields[0].type", "\"String\"", "fields[0].type" },
    { "fields[2].type", "2", "fields[2].type" },
    /* fields[].min, .max: integers, int or string only, string 0..4096,
     * min <= max */
    { "fields[0].min", "\"1\"", "fields[0].min" },
    { "fields[0].min", "1.5", "fields[0].min" },
    { "fields[2].max", "13.0", "fields[2].max" },
    { "fields[2].max", "null", "fields[2].max" },
    { "fields[2].min", "14", "fields[2].min" },              /* greater than max */
    { "fields[0].min", "33", "fields[0].min" },
    { "fields[0].min", "-1", "fields[0].min" },
    { "fields[0].max", "4097", "fields[0].max" },
    { "fields[0].max", "-5", "fields[0].max" },
    { "fields[3].min", "1", "fields[3].min" },               /* an enum */
    { "fields[3].max", "2", "fields[3].max" },
    /* fields[].values: required for enum, refused otherwise; 1 to 64
     * distinct strings of 1 to 64 bytes */
    { "fields[3].values", NULL, "fields[3].values" },
    { "fields[0].values", "[\"a\"]", "fields[0].values" },
    { "fields[2].values", "[\"1\"]", "fields[2].values" },
    { "fields[3].values", "[]", "fields[3].values" },
    { "fields[3].values", "\"2g4\"", "fields[3].values" },
    { "fields[3].values", "[\"2g4\", \"2g4\"]", "fields[3].values" },
    { "fields[3].values", "[\"2g4\", \"\"]", "fields[3].values" },
    { "fields[3].values", "[\"2g4\", 5]", "fields[3].values" },
    { "fields[3].values", "[\"2g4\", null]", "fields[3].values" },
    { "fields[3].values", "[\"a\\nb\"]", "fields[3].values" },
    /* fields[].secret: optional bool; only a string field */
    { "fields[0].secret", "\"yes\"", "fields[0].secret" },
    { "fields[0].secret", "1", "fields[0].secret" },
    { "fields[2].secret", "true", "fields[2].secret" },
    { "fields[3].secret", "true", "fields[3].secret" },
    /* fields[].vault: a secret name, only with "secret": true */
    { "fields[0].vault", "\"site-a/wifi-ssid\"", "fields[0].vault" },
    { "fields[1].secret", "false", "fields[1].vault" },
    { "fields[1].secret", NULL, "fields[1].vault" },
    { "fields[1].vault", "\"../wifi-psk\"", "fields[1].vault" },
    { "fields[1].vault", "\"Site-A/psk\"", "fields[1].vault" },
    { "fields[1].vault", "\"site-a//psk\"", "fields[1].vault" },
    { "fields[1].vault", "\"\"", "fields[1].vault" },
    { "fields[1].vault", "7", "fields[1].vault" },
    /* Unknown members, at every level. */
    { "extra", "1", "extra" },
    { "Id", "\"acme-wifi\"", "Id" },
    { "signed", "\"x\"", "signed" },
    { "fields[2].color", "\"red\"", "fields[2].color" },
    { "fields[1].default", "\"pw\"", "fields[1].default" },
    { "fields[0].Key", "\"x\"", "fields[0].Key" },
  };
  g_autofree char *long_id = json_string_of (SIGNETD_PROFILE_ID_MAX + 1, 'i');
  g_autofree char *long_model = json_string_of (SIGNETD_PROFILE_MODEL_MAX + 1, 'm');
  g_autofree char *long_desc = json_string_of (SIGNETD_PROFILE_DESCRIPTION_MAX + 1, 'd');
  g_autofree char *long_key = json_string_of (SIGNETD_PROFILE_KEY_MAX + 1, 'k');
  g_autofree char *long_value = NULL;
  g_autofree char *long_vault = NULL;
  g_autofree char *long_member = g_strnfill (40, 'x');
  struct {
    const char *path;
    const char *value;
    const char *where;
  } built[] = {
    { "id", long_id, "id" },
    { "model", long_model, "model" },
    { "description", long_desc, "description" },
    { "fields[0].key", long_key, "fields[0].key" },
    { "fields[3].values", NULL, "fields[3].values" },
    { "fields[1].vault", NULL, "fields[1].vault" },
    /* A member name too long to quote is reported at its object. */
    { long_member, "1", "profile" },
    { NULL, "1", "fields[2]" },
  };

  {
    g_autofree char *v = g_strnfill (SIGNETD_PROFILE_VALUE_LEN_MAX + 1, 'v');
    g_autofree char *n = g_strnfill (SIGNETD_VAULT_NAME_MAX + 1, 'n');

    long_value = g_strdup_printf ("[\"2g4\", \"%s\"]", v);
    long_vault = g_strdup_printf ("\"%s\"", n);
    built[4].value = long_value;
    built[5].value = long_vault;
  }
  {
    static char field_member[64];

    g_snprintf (field_member, sizeof field_member, "fields[2].%s", long_member);
    built[7].path = field_member;
  }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = mutate (example, cases[i].path, cases[i].value);

      assert_one_problem (json, cases[i].where);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (built); i++)
    {
      g_autofree char *json = mutate (example, built[i].path, built[i].value);

      assert_one_problem (json, built[i].where);
    }

  /* Rules that need two changes to break alone. */
  {
    g_autofree char *a = mutate (example, "class", "\"firmware\"");
    g_autofree char *b = mutate (a, "critical", "false");

    assert_one_problem (b, "critical");
  }
  {
    /* A bool field with a range. */
    g_autofree char *a = mutate (example, "fields[2].type", "\"bool\"");
    g_autofree char *b = mutate (a, "fields[2].min", NULL);

    assert_one_problem (b, "fields[2].max");
  }
  {
    /* A field that is not an object. */
    g_autofree char *a = mutate (example, "fields",
                                 "[{\"key\": \"a\", \"type\": \"bool\"}, 7]");

    assert_one_problem (a, "fields[1]");
  }
  /* 65 fields; and 65 enum values. */
  {
    g_autoptr(GString) fields = g_string_new ("[");
    g_autoptr(GString) values = g_string_new ("[");
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    for (guint i = 0; i <= SIGNETD_PROFILE_FIELDS_MAX; i++)
      g_string_append_printf (fields, "%s{\"key\": \"f%u\", \"type\": \"bool\"}",
                              i > 0 ? ", " : "", i);
    g_string_append_c (fields, ']');
    a = mutate (example, "fields", fields->str);
    assert_one_problem (a, "fields");
    for (guint i = 0; i <= SIGNETD_PROFILE_VALUES_MAX; i++)
      g_string_append_printf (values, "%s\"v%u\"", i > 0 ? ", " : "", i);
    g_string_append_c (values, ']');
    b = mutate (example, "fields[3].values", values->str);
    assert_one_problem (b, "fields[3].values");
  }
}

/* Every problem is reported, each on its own line. */
static void
test_several_problems (void)
{
  g_autofree char *a = mutate (example, "id", "\"Bad Id\"");
  g_autofree char *b = mutate (a, "critical", NULL);
  g_autofree char *c = mutate (b, "fields[2].min", "99");
  g_autofree char *d = mutate (c, "fields[3].color", "\"red\"");
  g_autofree char *e = mutate (d, "fields[1].type", "\"int\"");
  g_autofree char *f = mutate (e, "extra", "{}");
  /* wifi.psk as an int with min 8, max 63 and "secret": true: only the
   * secret is wrong (the string range is a valid int range). */
  const char *wheres[] = { "id", "critical", "fields[2].min", "fields[3].color",
                           "fields[1].secret", "extra", NULL };

  assert_problems (f, wheres);

  /* All the problems of one field, and of several fields. */
  {
    g_autofree char *g = mutate (example, "fields",
                                 "[{\"key\": \"A\", \"type\": \"x\", \"min\": \"1\", "
                                 "\"secret\": 3, \"vault\": \"/\", \"junk\": 0}, "
                                 "{\"type\": \"enum\"}, "
                                 "{\"key\": \"a\", \"type\": \"string\", \"min\": 5, "
                                 "\"max\": 4}]");
    const char *w[] = { "fields[0].junk", "fields[0].key", "fields[0].type", "fields[0].min",
                        "fields[0].secret", "fields[0].vault", "fields[1].key",
                        "fields[1].values", "fields[2].min", NULL };

    assert_problems (g, w);
  }
  /* Everything missing at once. */
  {
    const char *w[] = { "id", "version", "model", "class", "critical", "fields", NULL };

    assert_problems ("{}", w);
  }
}

/* Documents that are not a JSON object at all: one plain message. */
static void
test_not_a_profile (void)
{
  const char *docs[] = {
    "", "   ", "[]", "3", "\"acme\"", "null", "{", "{\"id\": }", "{'id': 'a'}", NULL
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) big = g_string_new (example);
  /* Invalid UTF-8 inside a string. */
  static const char bad_utf8[] = "{\"id\": \"a\xff\"}";

  for (gsize i = 0; docs[i] != NULL; i++)
    {
      g_autoptr(SignetdProfile) p = parse (docs[i], &error);

      if (p != NULL)
        g_error ("accepted: %s", docs[i]);
      g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
      g_clear_error (&error);
    }
  /* The example with something after it. */
  for (guint i = 0; i < 4; i++)
    {
      const char *tails[] = { " x", " {}", " []", example };
      g_autofree char *json = g_strconcat (example, tails[i], NULL);
      g_autoptr(SignetdProfile) p = parse (json, &error);

      if (p != NULL)
        g_error ("accepted with \"%s\" after it", tails[i]);
      g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
      g_clear_error (&error);
    }
  /* What json-glib would take but a strict reader must not: a member
   * twice (json-glib keeps the last: which vault entry was meant?), a
   * \u0000 (json-glib cuts the string there: "acme\u0000x" would be the
   * model "acme"), comments, leading zeros. Edits of the example's text:
   * going through json-glib would lose them. */
  {
    const char *edits[][2] = {
      { "\"acme-gw1\"", "\"acme-gw1\\u0000-other\"" },
      { "\"site-a/wifi-psk\"", "\"site-a/wifi-psk\\u0000x\"" },
      { "\"wifi.ssid\"", "\"wifi.ssid\\u0000\"" },
      { "\"5g\"", "\"5g\\u0000\"" },
      { "\"Site Wi-Fi credentials\"", "\"Site\\u0000\"" },
      { "\"vault\": \"site-a/wifi-psk\"}", "\"vault\": \"site-a/wifi-psk\", \"vault\": \"b\"}" },
      { "\"version\": 3,", "\"version\": 3, \"version\": 4," },
      { "\"id\": \"acme-wifi\",", "\"id\": \"acme-wifi\", \"id\": \"acme-wifi\"," },
      { "\"critical\": true,", "\"critical\": true, /* yes */" },
      { "\"critical\": true,", "\"critical\": true, // yes\n" },
      { "\"version\": 3,", "\"version\": 03," },
      { "\"version\": 3,", "\"version\": 3,," },
      { "\"5g\"]", "\"5g\",]" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (edits); i++)
      {
        g_autoptr(GString) json = g_string_new (example);
        g_autoptr(SignetdProfile) p = NULL;

        g_assert_cmpuint (g_string_replace (json, edits[i][0], edits[i][1], 1), ==, 1);
        p = parse (json->str, &error);
        if (p != NULL)
          g_error ("accepted: %s", json->str);
        g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
        g_clear_error (&error);
      }
  }
  g_assert_null (signetd_profile_parse (bad_utf8, sizeof bad_utf8 - 1, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
  g_clear_error (&error);
  /* A NUL inside the document: the length counts, not the C string. */
  g_assert_null (signetd_profile_parse (example, sizeof example, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
  g_clear_error (&error);

  /* Over 64 KiB, even if only by whitespace. */
  while (big->len <= SIGNETD_PROFILE_DOCUMENT_MAX)
    g_string_append_c (big, ' ');
  g_assert_null (signetd_profile_parse (big->str, big->len, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
  g_clear_error (&error);
  g_string_truncate (big, SIGNETD_PROFILE_DOCUMENT_MAX);
  {
    g_autoptr(SignetdProfile) p = signetd_profile_parse (big->str, big->len, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (p->id, ==, "acme-wifi");
  }
}

/* A profile whose device form would not fit a device's CBOR limits (256
 * items) is refused at parse time. */
static void
test_too_large_for_device (void)
{
  g_autoptr(GString) fields = g_string_new ("[");
  g_autofree char *json = NULL;

  for (guint i = 0; i < 40; i++)
    g_string_append_printf (fields, "%s{\"key\": \"f%u\", \"type\": \"bool\"}",
                            i > 0 ? ", " : "", i);
  g_string_append_c (fields, ']');
  json = mutate (example, "fields", fields->str);
  assert_one_problem (json, "profile");
}

/* ---- the device form ------------------------------------------------------ */

static void
test_device_form (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdProfile) p = parse_ok (example);
  g_autoptr(GBytes) expected = signet_test_hex (example_device_form);
  g_autoptr(GBytes) form = signetd_profile_encode (p, &error);
  g_autoptr(GBytes) again = signetd_profile_encode (p, &error);
  sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];
  sp_cbor_doc doc;

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (form, NULL), g_bytes_get_size (form),
                   g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
  g_assert_true (g_bytes_equal (form, again));
  /* Strict, deterministic CBOR within the device link's limits. */
  g_assert_cmpint (sp_cbor_decode (g_bytes_get_data (form, NULL), g_bytes_get_size (form),
                                   &sp_cbor_limits_default, items, G_N_ELEMENTS (items), &doc),
                   ==, SP_OK);
  /* No vault name in it. */
  g_assert_null (memmem (g_bytes_get_data (form, NULL), g_bytes_get_size (form), "site-a", 6));

  /* The same profile written in another order has the same form; so
   * have its served and stored JSON forms, parsed again. */
  {
    static const char shuffled[] =
      "{\"fields\": [{\"values\": [\"2g4\", \"5g\"], \"type\": \"enum\", \"key\": \"wifi.band\"},"
      " {\"max\": 13, \"min\": 1, \"key\": \"wifi.channel\", \"type\": \"int\"},"
      " {\"vault\": \"site-a/wifi-psk\", \"secret\": true, \"key\": \"wifi.psk\","
      "  \"max\": 63, \"type\": \"string\", \"min\": 8},"
      " {\"key\": \"wifi.ssid\", \"secret\": false, \"type\": \"string\", \"max\": 32,"
      "  \"min\": 1}],"
      " \"description\": \"Site Wi-Fi credentials\", \"critical\": true, \"class\": \"credential\","
      " \"model\": \"acme-gw1\", \"version\": 3, \"id\": \"acme-wifi\"}";
    g_autoptr(SignetdProfile) q = parse_ok (shuffled);
    g_autoptr(GBytes) qform = signetd_profile_encode (q, &error);

    g_assert_true (g_bytes_equal (form, qform));
    for (guint vault = 0; vault < 2; vault++)
      {
        g_autoptr(JsonNode) node = signetd_profile_to_json (p, vault);
        g_autofree char *text = json_to_string (node, FALSE);
        g_autoptr(SignetdProfile) r = parse_ok (text);
        g_autoptr(GBytes) rform = signetd_profile_encode (r, &error);

        g_assert_true (g_bytes_equal (form, rform));
        g_assert_true ((strstr (text, "site-a/wifi-psk") != NULL) == (vault != 0));
      }
  }

  /* Negative integers, a bool, no description, and a change of one
   * field changes the form. */
  {
    static const char small[] =
      "{\"id\": \"t\", \"version\": 0, \"model\": \"m\", \"class\": \"config\","
      " \"critical\": false, \"fields\": [{\"key\": \"temp\", \"type\": \"int\", \"min\": -40,"
      " \"max\": 85}, {\"key\": \"on\", \"type\": \"bool\"}]}";
    g_autoptr(SignetdProfile) s = parse_ok (small);
    g_autoptr(GBytes) sform = signetd_profile_encode (s, &error);
    g_autoptr(GBytes) sexp = signet_test_hex ("a7 0161 74 0200 03616d 0401 05f4 0660 0782"
                                              "a3 01626f6e 0203 06f4"
                                              "a5 016474656d70 0202 033827 041855 06f4");

    g_assert_cmpmem (g_bytes_get_data (sform, NULL), g_bytes_get_size (sform),
                     g_bytes_get_data (sexp, NULL), g_bytes_get_size (sexp));
  }
}

/* Field keys in RFC 8949 §4.2.1 order: shorter first, then bytewise. */
static void
test_field_order (void)
{
  g_autofree char *json =
    mutate (example, "fields",
            "[{\"key\": \"b\", \"type\": \"bool\"}, {\"key\": \"z.z\", \"type\": \"bool\"},"
            " {\"key\": \"ab\", \"type\": \"bool\"}, {\"key\": \"a\", \"type\": \"bool\"},"
            " {\"key\": \"_a\", \"type\": \"bool\"}, {\"key\": \"0a\", \"type\": \"bool\"},"
            " {\"key\": \"a.b\", \"type\": \"bool\"}, {\"key\": \"-\", \"type\": \"bool\"}]");
  g_autoptr(SignetdProfile) p = parse_ok (json);
  /* '-' 0x2d < '0' 0x30 < 'a' 0x61 and '.' 0x2e < '_' 0x5f < 'b'. */
  const char *order[] = { "-", "a", "b", "0a", "_a", "ab", "a.b", "z.z" };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) form = signetd_profile_encode (p, &error);
  sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];
  sp_cbor_doc doc;
  size_t fields, field, key;
  sp_cbor_iter it;
  guint i = 0;

  g_assert_cmpuint (p->fields->len, ==, G_N_ELEMENTS (order));
  for (i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpstr (((SignetdProfileField *) g_ptr_array_index (p->fields, i))->key, ==,
                     order[i]);

  /* The same order in the device form, read back with the decoder. */
  g_assert_cmpint (sp_cbor_decode (g_bytes_get_data (form, NULL), g_bytes_get_size (form), NULL,
                                   items, G_N_ELEMENTS (items), &doc), ==, SP_OK);
  g_assert_cmpint (sp_cbor_map_find_int (&doc, 0, 7, &fields), ==, SP_OK);
  g_assert_cmpint (sp_cbor_iter_init (&it, &doc, fields, SP_CBOR_ARRAY), ==, SP_OK);
  i = 0;
  while (sp_cbor_iter_next (&it, &field))
    {
      g_assert_cmpint (sp_cbor_map_find_int (&doc, field, 1, &key), ==, SP_OK);
      g_assert_true (sp_cbor_text_equals (&doc, key, order[i]));
      i++;
    }
  g_assert_cmpuint (i, ==, G_N_ELEMENTS (order));
}

/* ---- the store ------------------------------------------------------------ */

static SignetdProfile *
add (SignetdProfiles  *profiles,
     const char       *json,
     GError          **error)
{
  return signetd_profiles_add (profiles, json, strlen (json), 1000, error);
}

static char *
with_version (const char *json,
              gint64      version)
{
  g_autofree char *v = g_strdup_printf ("%" G_GINT64_FORMAT, version);

  return mutate (json, "version", v);
}

static void
test_versions (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store);
  g_autoptr(SignetdProfiles) profiles = signetd_profiles_new (store, keys);
  g_autofree char *v2 = with_version (example, 2);
  g_autofree char *v4 = with_version (example, 4);
  g_autofree char *v5 = with_version (example, 5);
  g_autofree char *v6 = with_version (example, 6);
  g_autofree char *other = mutate (example, "id", "\"acme-wifi-b\"");
  g_autofree char *other_model = mutate (other, "model", "\"acme-gw2\"");
  g_autoptr(SignetdProfile) p = NULL;
  g_autoptr(GPtrArray) list = NULL;

  p = add (profiles, example, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->version, ==, 3);
  g_clear_pointer (&p, signetd_profile_free);

  /* The same version again, and a lower one: refused, naming both. */
  g_assert_null (add (profiles, example, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_VERSION);
  g_assert_true (g_str_has_prefix (error->message, "version: "));
  g_clear_error (&error);
  g_assert_null (add (profiles, v2, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_VERSION);
  g_clear_error (&error);
  /* An invalid document is refused as such, not for its version. */
  {
    g_autofree char *bad = mutate (v4, "class", "\"x\"");

    g_assert_null (add (profiles, bad, &error));
    g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_INVALID);
    g_clear_error (&error);
  }
  p = signetd_profiles_lookup (profiles, "acme-wifi", &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->version, ==, 3);
  g_clear_pointer (&p, signetd_profile_free);

  p = add (profiles, v4, &error);
  g_assert_no_error (error);
  g_clear_pointer (&p, signetd_profile_free);
  p = signetd_profiles_lookup (profiles, "acme-wifi", &error);
  g_assert_cmpint (p->version, ==, 4);
  /* The stored form keeps the vault names. */
  g_assert_cmpstr (signetd_profile_find_field (p, "wifi.psk")->vault, ==, "site-a/wifi-psk");
  g_clear_pointer (&p, signetd_profile_free);

  /* Removed: no longer served, and its version still only rises. */
  g_assert_true (signetd_profiles_remove (profiles, "acme-wifi", 1100, &error));
  g_assert_no_error (error);
  g_assert_null (signetd_profiles_lookup (profiles, "acme-wifi", &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (signetd_profiles_remove (profiles, "acme-wifi", 1100, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = signetd_profiles_list (profiles, NULL, &error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_null (add (profiles, v4, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_VERSION);
  g_clear_error (&error);
  g_assert_null (add (profiles, example, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_VERSION);
  g_clear_error (&error);
  p = add (profiles, v5, &error);
  g_assert_no_error (error);
  g_clear_pointer (&p, signetd_profile_free);
  p = signetd_profiles_lookup (profiles, "acme-wifi", &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->version, ==, 5);
  g_clear_pointer (&p, signetd_profile_free);
  p = add (profiles, v6, &error);
  g_assert_no_error (error);
  g_clear_pointer (&p, signetd_profile_free);

  /* Unknown ids. */
  g_assert_null (signetd_profiles_lookup (profiles, "nope", &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (signetd_profiles_remove (profiles, "nope", 1, &error));
  g_assert_error (error, SIGNETD_PROFILES_ERROR, SIGNETD_PROFILES_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Listing: by id, all or one model. */
  p = add (profiles, other_model, &error);
  g_assert_no_error (error);
  g_clear_pointer (&p, signetd_profile_free);
  list = signetd_profiles_list (profiles, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((SignetdProfile *) g_ptr_array_index (list, 0))->id, ==, "acme-wifi");
  g_assert_cmpstr (((SignetdProfile *) g_ptr_array_index (list, 1))->id, ==, "acme-wifi-b");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = signetd_profiles_list (profiles, "acme-gw2", &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((SignetdProfile *) g_ptr_array_index (list, 0))->id, ==, "acme-wifi-b");
  g_clear_pointer (&list, g_ptr_array_unref);
  list = signetd_profiles_list (profiles, "acme-gw", &error);
  g_assert_cmpuint (list->len, ==, 0);
}

/* ---- signatures ----------------------------------------------------------- */

static void
test_signed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdStore) store = signetd_store_open (":memory:", TRUE, &error);
  g_autoptr(SignetdKeys) keys = make_keys (store);
  g_autoptr(SignetdProfiles) profiles = signetd_profiles_new (store, keys);
  g_autoptr(SignetdProfile) p = parse_ok (example);
  g_autoptr(GBytes) payload = signetd_profile_encode (p, &error);
  g_autoptr(GBytes) signed1 = NULL;
  g_autoptr(GBytes) signed2 = NULL;
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(SignetKey) old_key = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(GBytes) old_pub = NULL;
  g_autofree char *kid = NULL;
  g_autofree char *old_kid = NULL;
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  sp_cose_sign1 msg;
  guint8 hdr[256];
  sp_cbor_writer w;
  size_t hdr_len = 0;

  /* No authority key yet. */
  g_assert_null (signetd_profiles_sign (profiles, payload, &error));
  g_assert_error (error, SIGNETD_KEYS_ERROR, SIGNETD_KEYS_ERROR_NO_AUTHORITY);
  g_clear_error (&error);

  old_kid = signetd_keys_rotate (keys, 1000, &error);
  g_assert_no_error (error);
  old_key = signetd_keys_get_current (keys, NULL, &error);
  old_pub = signet_key_get_public_bytes (old_key);
  kid = signetd_keys_rotate (keys, 1001, &error);
  g_assert_no_error (error);
  key = signetd_keys_get_current (keys, NULL, &error);
  pub = signet_key_get_public_bytes (key);

  signed1 = signetd_profiles_sign (profiles, payload, &error);
  g_assert_no_error (error);
  signed2 = signetd_profiles_sign (profiles, payload, &error);
  g_assert_no_error (error);
  /* ECDSA: a new signature each time, over the same payload. */
  g_assert_false (g_bytes_equal (signed1, signed2));

  for (guint i = 0; i < 2; i++)
    {
      GBytes *s = i == 0 ? signed1 : signed2;

      g_assert_cmpint (sp_cose_sign1_decode (g_bytes_get_data (s, NULL), g_bytes_get_size (s),
                                             NULL, &msg), ==, SP_OK);
      g_assert_true (msg.tagged);
      g_assert_cmpint (sp_cose_sign1_check_strict (&msg, SIGNETD_PROFILE_CONTENT_TYPE), ==, SP_OK);
      g_assert_cmpmem (msg.kid, msg.kid_len, kid, strlen (kid));
      g_assert_cmpmem (msg.payload, msg.payload_len, g_bytes_get_data (payload, NULL),
                       g_bytes_get_size (payload));
      g_assert_cmpint (sp_cose_sign1_verify (port, &msg, g_bytes_get_data (pub, NULL), NULL, 0),
                       ==, SP_OK);
      /* Not by the retired key. */
      g_assert_cmpint (sp_cose_sign1_verify (port, &msg, g_bytes_get_data (old_pub, NULL), NULL,
                                             0), ==, SP_ERR_BAD_SIGNATURE);
      /* The protected header is exactly {1: -7, 3: content type, 4: kid}. */
      sp_cbor_writer_init (&w, hdr, sizeof hdr);
      sp_cbor_put_map (&w, 3);
      sp_cbor_put_uint (&w, 1);
      sp_cbor_put_int (&w, -7);
      sp_cbor_put_uint (&w, 3);
      sp_cbor_put_textz (&w, "application/signet-profile+cbor");
      sp_cbor_put_uint (&w, 4);
      sp_cbor_put_bytes (&w, kid, strlen (kid));
      g_assert_cmpint (sp_cbor_writer_finish (&w, &hdr_len), ==, SP_OK);
      g_assert_cmpmem (msg.protected_hdr, msg.protected_len, hdr, hdr_len);
      g_assert_cmpuint (msg.unprotected_count, ==, 0);
    }

  /* Any changed byte of the payload or signature fails to verify. */
  {
    gsize len = 0;
    const guint8 *data = g_bytes_get_data (signed1, &len);
    g_autofree guint8 *copy = g_memdup2 (data, len);
    gsize spots[4];

    g_assert_cmpint (sp_cose_sign1_decode (data, len, NULL, &msg), ==, SP_OK);
    /* Inside the payload, and inside the signature (the last 64 bytes). */
    spots[0] = (gsize) (msg.payload - data) + 2;
    spots[1] = (gsize) (msg.payload - data) + msg.payload_len - 1;
    spots[2] = len - 1;
    spots[3] = len - 40;

    for (gsize i = 0; i < G_N_ELEMENTS (spots); i++)
      {
        sp_cose_sign1 bad;

        memcpy (copy, data, len);
        copy[spots[i]] ^= 0x01;
        g_assert_cmpint (sp_cose_sign1_decode (copy, len, NULL, &bad), ==, SP_OK);
        g_assert_cmpint (sp_cose_sign1_verify (port, &bad, g_bytes_get_data (pub, NULL), NULL, 0),
                         ==, SP_ERR_BAD_SIGNATURE);
      }
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/profiles/parse/example", test_example);
  g_test_add_func ("/signetd/profiles/parse/accepted", test_accepted);
  g_test_add_func ("/signetd/profiles/parse/rules", test_rules);
  g_test_add_func ("/signetd/profiles/parse/several-problems", test_several_problems);
  g_test_add_func ("/signetd/profiles/parse/not-a-profile", test_not_a_profile);
  g_test_add_func ("/signetd/profiles/parse/too-large-for-device", test_too_large_for_device);
  g_test_add_func ("/signetd/profiles/device-form", test_device_form);
  g_test_add_func ("/signetd/profiles/field-order", test_field_order);
  g_test_add_func ("/signetd/profiles/versions", test_versions);
  g_test_add_func ("/signetd/profiles/signed", test_signed);
  return g_test_run ();
}
