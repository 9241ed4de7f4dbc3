/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-devsim-model: the model files of data/models and the strict
 * reading of a model (docs/devsim.md): what the schema and the factory
 * configuration come out as, and every way a model is refused.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "devsim-error.h"
#include "devsim-model.h"
#include "sp-cbor.h"

static DevsimModel *
load_shipped (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "models", file,
                                                 NULL);
  DevsimModel *model = devsim_model_new_from_file (path, &error);

  g_assert_no_error (error);
  return model;
}

static void
test_gw1 (void)
{
  g_autoptr(DevsimModel) m = load_shipped ("acme-gw1");
  const sa_schema *s = devsim_model_get_schema (m);
  const sa_field *f;
  GBytes *config = devsim_model_get_initial_config (m);
  sp_cbor_item items[64];
  sp_cbor_doc doc;
  size_t idx;
  int64_t v;
  gsize i, len = 0;
  const guint8 *p = g_bytes_get_data (config, &len);

  g_assert_cmpstr (devsim_model_get_name (m), ==, "acme-gw1");
  g_assert_cmpstr (s->model, ==, "acme-gw1");
  g_assert_cmpstr (devsim_model_get_firmware (m), ==, "2.3.1");
  g_assert_cmpuint (devsim_model_get_config_version (m), ==, 1);

  /* sorted in deterministic order: the agent binary-searches */
  for (i = 1; i < s->n_fields; i++)
    g_assert_cmpint (devsim_model_key_compare (s->fields[i - 1].key, s->fields[i].key), <, 0);

  /* what docs/api.md's acme-wifi profile expects of the model */
  f = devsim_model_lookup (m, "wifi.psk");
  g_assert_nonnull (f);
  g_assert_true (f->secret && f->critical && f->klass == SA_CLASS_CREDENTIAL);
  g_assert_cmpint (f->type, ==, SA_TYPE_STRING);
  g_assert_cmpint (f->min, ==, 8);
  g_assert_cmpint (f->max, ==, 63);
  f = devsim_model_lookup (m, "wifi.channel");
  g_assert_true (f != NULL && f->type == SA_TYPE_INT && f->min == 1 && f->max == 13);
  g_assert_false (f->critical);
  f = devsim_model_lookup (m, "wifi.band");
  g_assert_true (f != NULL && f->type == SA_TYPE_ENUM && f->n_values == 2);
  g_assert_cmpstr (f->values[0], ==, "2g4");
  g_assert_cmpstr (f->values[1], ==, "5g");
  f = devsim_model_lookup (m, "wifi.ssid");
  g_assert_true (f != NULL && f->type == SA_TYPE_STRING && f->min == 1 && f->max == 32);
  f = devsim_model_lookup (m, "admin.ssh");
  g_assert_true (f != NULL && f->critical && f->klass == SA_CLASS_CONFIG);
  f = devsim_model_lookup (m, "update.channel");
  g_assert_true (f != NULL && f->klass == SA_CLASS_FIRMWARE && f->critical);
  g_assert_null (devsim_model_lookup (m, "wifi"));

  /* the factory configuration: keys with an initial value, no secret
   * without one */
  g_assert_cmpint (sp_cbor_decode (p, len, NULL, items, G_N_ELEMENTS (items), &doc), ==, SP_OK);
  g_assert_cmpint (sp_cbor_map_find_text (&doc, 0, "wifi.channel", &idx), ==, SP_OK);
  g_assert_cmpint (sp_cbor_get_int (&doc, idx, &v), ==, SP_OK);
  g_assert_cmpint (v, ==, 6);
  g_assert_cmpint (sp_cbor_map_find_text (&doc, 0, "wifi.psk", &idx), ==, SP_ERR_MISSING);
  g_assert_cmpint (sp_cbor_map_find_text (&doc, 0, "net.dhcp", &idx), ==, SP_OK);
  g_assert_cmpint (sp_cbor_item_type (&doc, idx), ==, SP_CBOR_BOOL);
}

static void
test_sensor2 (void)
{
  g_autoptr(DevsimModel) m = load_shipped ("acme-sensor2");
  const sa_field *f = devsim_model_lookup (m, "lora.app-key");
  GBytes *config = devsim_model_get_initial_config (m);
  sp_cbor_item items[64];
  sp_cbor_doc doc;
  size_t idx;
  int64_t v;
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (config, &len);

  g_assert_true (f != NULL && f->secret && f->min == 32 && f->max == 32);
  f = devsim_model_lookup (m, "sensor.alarm-low");
  g_assert_true (f != NULL && f->min == -40);
  g_assert_cmpint (sp_cbor_decode (p, len, NULL, items, G_N_ELEMENTS (items), &doc), ==, SP_OK);
  g_assert_cmpint (sp_cbor_map_find_text (&doc, 0, "sensor.alarm-low", &idx), ==, SP_OK);
  g_assert_cmpint (sp_cbor_get_int (&doc, idx, &v), ==, SP_OK);
  g_assert_cmpint (v, ==, -10);
  /* a factory secret is part of the configuration */
  g_assert_cmpint (sp_cbor_map_find_text (&doc, 0, "lora.app-key", &idx), ==, SP_OK);
}

static void
test_minimal (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimModel) m = devsim_model_new_from_data (
    "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": "
    "[{\"key\": \"b\", \"type\": \"bool\", \"class\": \"config\"},"
    " {\"key\": \"a.z\", \"type\": \"int\", \"class\": \"config\", \"initial\": -5},"
    " {\"key\": \"aa\", \"type\": \"string\", \"max\": 4, \"class\": \"credential\"}]}",
    -1, &error);
  const sa_schema *s;
  gsize len = 0;
  const guint8 *p;

  g_assert_no_error (error);
  s = devsim_model_get_schema (m);
  g_assert_cmpuint (s->n_fields, ==, 3);
  g_assert_cmpstr (s->fields[0].key, ==, "b");
  g_assert_cmpstr (s->fields[1].key, ==, "aa");
  g_assert_cmpstr (s->fields[2].key, ==, "a.z");
  g_assert_true (s->fields[1].critical);            /* credential: critical by default */
  g_assert_cmpint (s->fields[2].min, ==, G_MININT64);  /* an int without bounds */
  p = g_bytes_get_data (devsim_model_get_initial_config (m), &len);
  g_assert_cmpmem (p, len, "\xa1\x63" "a.z" "\x24", 6);   /* {"a.z": -5} */
}

static void
test_refused (void)
{
  static const struct {
    const char *json;
    const char *where;
  } cases[] = {
    { "[]", "model" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": []}", "fields" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [], \"extra\": 1}", "extra" },
    { "{\"model\": \"\", \"firmware\": \"1\", \"fields\": [{}]}", "model" },
    { "{\"model\": \"m\", \"fields\": [{}]}", "firmware" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"config_version\": 0, \"fields\": [{}]}",
      "config_version" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"A\", \"type\": "
      "\"bool\", \"class\": \"config\"}]}", "fields[0].key" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a..b\", \"type\": "
      "\"bool\", \"class\": \"config\"}]}", "fields[0].key" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"float\", \"class\": \"config\"}]}", "fields[0].type" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"bool\", \"class\": \"secret\"}]}", "fields[0].class" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"string\", \"class\": \"config\"}]}", "fields[0].max" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"int\", \"min\": 5, \"max\": 4, \"class\": \"config\"}]}", "fields[0].min" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"bool\", \"min\": 0, \"class\": \"config\"}]}", "fields[0].min" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"enum\", \"class\": \"config\"}]}", "fields[0].values" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"enum\", \"values\": [\"x\", \"x\"], \"class\": \"config\"}]}", "fields[0].values" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"int\", \"secret\": true, \"class\": \"credential\"}]}", "fields[0].secret" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"bool\", \"critical\": false, \"class\": \"firmware\"}]}", "fields[0].critical" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"int\", \"max\": 3, \"class\": \"config\", \"initial\": 4}]}", "fields[0].initial" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"int\", \"class\": \"config\", \"initial\": 1.5}]}", "fields[0].initial" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"enum\", \"values\": [\"x\"], \"class\": \"config\", \"initial\": \"y\"}]}",
      "fields[0].initial" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"string\", \"max\": 2, \"class\": \"config\", \"initial\": \"abc\"}]}",
      "fields[0].initial" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"bool\", \"class\": \"config\", \"colour\": 1}]}", "colour" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\", \"type\": "
      "\"bool\", \"class\": \"config\"}, {\"key\": \"a\", \"type\": \"int\", "
      "\"class\": \"config\"}]}", "twice" },
    { "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": [{\"key\": \"a\"", NULL },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(DevsimModel) m = devsim_model_new_from_data (cases[i].json, -1, &error);

      g_test_message ("case %u: %s", i, error != NULL ? error->message : "(accepted)");
      g_assert_null (m);
      g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
      if (cases[i].where != NULL)
        g_assert_nonnull (strstr (error->message, cases[i].where));
    }
}

/* Initial values larger together than a configuration may be. */
static void
test_too_large (void)
{
  g_autofree char *a = g_strnfill (1000, 'x');
  g_autofree char *b = g_strnfill (100, 'y');
  g_autofree char *json = g_strdup_printf (
    "{\"model\": \"m\", \"firmware\": \"1\", \"fields\": ["
    "{\"key\": \"a\", \"type\": \"string\", \"max\": 1000, \"class\": \"config\", "
    "\"initial\": \"%s\"}, "
    "{\"key\": \"b\", \"type\": \"string\", \"max\": 100, \"class\": \"config\", "
    "\"initial\": \"%s\"}]}", a, b);
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimModel) m = devsim_model_new_from_data (json, -1, &error);

  g_assert_null (m);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "a configuration may have"));
}

static void
test_not_found (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimModel) m = devsim_model_new_from_file ("/nonexistent/model.json", &error);

  g_assert_null (m);
  g_assert_error (error, DEVSIM_ERROR, DEVSIM_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signet/devsim/model/acme-gw1", test_gw1);
  g_test_add_func ("/signet/devsim/model/acme-sensor2", test_sensor2);
  g_test_add_func ("/signet/devsim/model/minimal", test_minimal);
  g_test_add_func ("/signet/devsim/model/refused", test_refused);
  g_test_add_func ("/signet/devsim/model/too-large", test_too_large);
  g_test_add_func ("/signet/devsim/model/not-found", test_not_found);
  return g_test_run ();
}
