/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-signetd-json: strict JSON request bodies -- the RFC 8259 pre-scan
 * (duplicates, depth, member count, what json-glib would accept beyond the
 * RFC) and the member spec.
 */
#include "config.h"

#include <string.h>

#include "signetd-json.h"

static const SignetdJsonMember login_spec[] = {
  { "username", SIGNETD_JSON_MEMBER_STRING },
  { "password", SIGNETD_JSON_MEMBER_STRING },
  { "otp", SIGNETD_JSON_MEMBER_STRING },
  { "pop_key", SIGNETD_JSON_MEMBER_OBJECT },
};

static void
assert_check_fails (const char *text,
                    gsize       len,
                    int         code)
{
  g_autoptr(GError) error = NULL;

  if (!signetd_json_check (text, len, NULL, &error))
    {
      g_assert_error (error, SIGNETD_JSON_ERROR, code);
      return;
    }
  g_error ("accepted: %s", text);
}

static void
assert_check_ok (const char *text,
                 guint       n_expected)
{
  g_autoptr(GError) error = NULL;
  guint n = G_MAXUINT;

  if (!signetd_json_check (text, strlen (text), &n, &error))
    g_error ("refused (%s): %s", error->message, text);
  g_assert_cmpuint (n, ==, n_expected);
}

static void
test_valid (void)
{
  assert_check_ok ("{}", 0);
  assert_check_ok (" \t\r\n{ \"a\" : 1 , \"b\":[ ] }\n", 2);
  assert_check_ok ("{\"a\":[1,-0,0.5,-2.5e+3,1E-2,1e9,true,false,null,\"\",{},[]]}", 1);
  assert_check_ok ("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00 \xc3\xa9\"}", 1);
  /* The same name in two objects is not a duplicate. */
  assert_check_ok ("{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":[{\"x\":1},{\"x\":2}]}", 7);
  /* Names differing only by case or by escaping of another character. */
  assert_check_ok ("{\"a\":1,\"A\":2,\"\\u00e9\":3,\"e\\u0301\":4}", 4);
  /* U+0000 in a value reads as json-glib always read it (cut there). */
  /* Any JSON text passes the pre-scan; the object rule is the spec's. */
  assert_check_ok ("[1,2]", 0);
  assert_check_ok ("\"x\"", 0);
  assert_check_ok ("0", 0);
}

static void
test_duplicates (void)
{
  static const char * const dups[] = {
    "{\"password\":\"a\",\"password\":\"b\"}",
    "{\"password\":\"a\",\"pass\\u0077ord\":\"b\"}",
    "{\"a\\/b\":1,\"a/b\":2}",
    "{\"\\uD83D\\uDE00\":1,\"\xf0\x9f\x98\x80\":2}",
    "{\"x\":1,\"y\":{\"k\":1,\"k\":2}}",
    "{\"x\":[{},{\"k\":1,\"z\":0,\"k\":2}]}",
    "{\"\":1,\"\":2}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (dups); i++)
    assert_check_fails (dups[i], strlen (dups[i]), SIGNETD_JSON_ERROR_DUPLICATE_MEMBER);
}

static void
test_malformed (void)
{
  static const char * const bad[] = {
    "", " ", "{", "}", "{\"a\":1,}", "[1,]", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\" 1}",
    "{a:1}", "{'a':1}", "{\"a\":'x'}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}",
    "{\"a\":+1}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":NaN}", "{\"a\":Infinity}",
    "{\"a\":tru}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":0x10}",
    "{\"a\":1,/* c */\"b\":2}", "{\"a\":1}// c", "# c\n{}", "var a = {}",
    "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\",
    "{\"\\u0000\":1}", "{\"a\\u0000\":1}", "{\"a\":\"x\\u0000y\"}", "{\"a\":\"\\uDC00\"}", "{\"a\":\"\\uD800\"}",
    "{\"a\":\"\\uD800x\"}", "{\"a\":\"\\uD800\\u0041\"}", "{\"a\":\"\\uD800\\uD800\"}",
    "{\"a\":\"tab\there\"}", "{\"a\":\"line\nbreak\"}", "{\"a\":\"open}",
    "\xef\xbb\xbf{}", "{\"a\":1}\x0b", "\f{}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_check_fails (bad[i], strlen (bad[i]), SIGNETD_JSON_ERROR_MALFORMED);
  /* Not UTF-8, and a NUL byte inside the length. */
  assert_check_fails ("\xff\xfe{}", 4, SIGNETD_JSON_ERROR_MALFORMED);
  assert_check_fails ("{\"a\":\"\xc0\xaf\"}", 9, SIGNETD_JSON_ERROR_MALFORMED);
  assert_check_fails ("{\"a\":\"x\0y\"}", 11, SIGNETD_JSON_ERROR_MALFORMED);
  assert_check_fails ("{}\0", 3, SIGNETD_JSON_ERROR_MALFORMED);
}

static void
test_limits (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) many = g_string_new ("{");
  guint i;

  /* SIGNETD_JSON_MAX_DEPTH levels pass, one more does not. */
  for (i = 0; i < SIGNETD_JSON_MAX_DEPTH; i++)
    g_string_append (deep, i % 2 ? "[" : "{\"k\":");
  for (i = SIGNETD_JSON_MAX_DEPTH; i > 0; i--)
    g_string_append (deep, (i - 1) % 2 ? "]" : "}");
  assert_check_ok (deep->str, SIGNETD_JSON_MAX_DEPTH / 2);
  g_string_prepend (deep, "[");
  g_string_append (deep, "]");
  assert_check_fails (deep->str, deep->len, SIGNETD_JSON_ERROR_TOO_DEEP);

  /* A nesting bomb is refused without recursing through it. */
  g_string_truncate (deep, 0);
  for (i = 0; i < 60000; i++)
    g_string_append_c (deep, '[');
  assert_check_fails (deep->str, deep->len, SIGNETD_JSON_ERROR_TOO_DEEP);

  for (i = 0; i < SIGNETD_JSON_MAX_MEMBERS; i++)
    g_string_append_printf (many, "%s\"m%u\":0", i > 0 ? "," : "", i);
  g_string_append (many, "}");
  assert_check_ok (many->str, SIGNETD_JSON_MAX_MEMBERS);
  many->str[many->len - 1] = ',';
  g_string_append (many, "\"x\":{}}");
  assert_check_fails (many->str, many->len, SIGNETD_JSON_ERROR_TOO_MANY_MEMBERS);
}

static gboolean
parse (const char               *text,
       const SignetdJsonMember  *spec,
       gsize                     n_spec,
       GError                  **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *obj = NULL;
  gboolean ok = signetd_json_body_parse (text, strlen (text), spec, n_spec, &parser, &obj, error);

  g_assert_true (ok == (parser != NULL));
  g_assert_true (ok == (obj != NULL));
  return ok;
}

static void
test_spec (void)
{
  static const char login[] =
    "{\"username\":\"alice\",\"password\":\"hunter2\",\"otp\":\"123456\","
    "\"pop_key\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}}";
  static const SignetdJsonMember arrays[] = { { "chain", SIGNETD_JSON_MEMBER_ARRAY } };
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj = NULL;

  g_assert_true (signetd_json_body_parse (login, strlen (login), login_spec,
                                          G_N_ELEMENTS (login_spec), &parser, &obj, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (obj, "password"), ==, "hunter2");
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (obj, "pop_key")), ==, 4);

  g_assert_true (parse ("{}", NULL, 0, &error));
  g_assert_true (parse ("{\"chain\":[]}", arrays, 1, &error));
  g_assert_no_error (error);

  g_assert_false (parse ("[]", NULL, 0, &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_NOT_OBJECT);
  g_clear_error (&error);
  g_assert_false (parse ("\"{}\"", NULL, 0, &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_NOT_OBJECT);
  g_clear_error (&error);
  g_assert_false (parse ("{\"x\":1}", NULL, 0, &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_UNKNOWN_MEMBER);
  g_clear_error (&error);
  g_assert_false (parse ("{\"username\":\"a\",\"password\":\"b\",\"otp\":\"c\"}", login_spec,
                         G_N_ELEMENTS (login_spec), &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_MISSING_MEMBER);
  g_assert_cmpstr (error->message, ==, "missing member \"pop_key\"");
  g_clear_error (&error);
  g_assert_false (parse ("{\"username\":\"a\",\"password\":null,\"otp\":\"c\",\"pop_key\":{}}",
                         login_spec, G_N_ELEMENTS (login_spec), &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_WRONG_TYPE);
  g_assert_cmpstr (error->message, ==, "member \"password\" must be a string");
  g_clear_error (&error);
  g_assert_false (parse ("{\"chain\":{}}", arrays, 1, &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_WRONG_TYPE);
  g_clear_error (&error);
  g_assert_false (parse ("", NULL, 0, &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_MALFORMED);
  g_clear_error (&error);

  /* The duplicate is refused before json-glib keeps the last one, and
   * the message quotes neither the name nor either value. */
  g_assert_false (parse ("{\"username\":\"alice\",\"password\":\"hunter2\",\"password\":\"x\","
                         "\"otp\":\"1\",\"pop_key\":{}}",
                         login_spec, G_N_ELEMENTS (login_spec), &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_DUPLICATE_MEMBER);
  g_assert_null (strstr (error->message, "hunter2"));
  g_assert_null (strstr (error->message, "password"));
  g_clear_error (&error);
  g_assert_false (parse ("{\"username\":\"alice\",\"password\":\"hunter2\",\"otp\":\"1\","
                         "\"pop_key\":{\"x\":\"A\",\"x\":\"B\"}}",
                         login_spec, G_N_ELEMENTS (login_spec), &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_DUPLICATE_MEMBER);
  g_clear_error (&error);
  g_assert_false (parse ("{\"username\":\"hunter2\" // x\n}", NULL, 0, &error));
  g_assert_error (error, SIGNETD_JSON_ERROR, SIGNETD_JSON_ERROR_MALFORMED);
  g_assert_null (strstr (error->message, "hunter2"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signetd/json/valid", test_valid);
  g_test_add_func ("/signetd/json/duplicates", test_duplicates);
  g_test_add_func ("/signetd/json/malformed", test_malformed);
  g_test_add_func ("/signetd/json/limits", test_limits);
  g_test_add_func ("/signetd/json/spec", test_spec);
  return g_test_run ();
}
