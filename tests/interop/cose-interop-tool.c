/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cose-interop-tool: Signet's side of the COSE interoperability test
 * (tests/interop/cose_interop.py drives it).
 *
 *   cose-interop-tool sign
 *     Make a fresh authority key and PoP key; print JSON with the
 *     authority's public JWK, its kid, a COSE_Sign1 over random bytes with
 *     an external AAD, and a CWT (claims listed too) bound to the PoP key.
 *   cose-interop-tool verify < {"jwk": JWK, "aad": HEX, "sign1": [HEX...]}
 *     Verify each object with the JWK's key and that AAD; print a JSON
 *     list holding "" for each that verified and the error otherwise.
 *
 * Exit status: 0 when it ran, 2 on bad usage or input.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "signet-crypto-port.h"
#include "signet-crypto.h"
#include "signet-key.h"
#include "sp-cose.h"
#include "sp-cwt.h"

static char *
hex (const guint8 *data, gsize len)
{
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static GBytes *
unhex (const char *text)
{
  gsize n = strlen (text);
  g_autofree guint8 *out = NULL;

  if (n % 2 != 0)
    return NULL;
  out = g_malloc (n / 2 + 1);
  for (gsize i = 0; i < n / 2; i++)
    {
      int hi = g_ascii_xdigit_value (text[2 * i]);
      int lo = g_ascii_xdigit_value (text[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return NULL;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (g_steal_pointer (&out), n / 2);
}

static void
add_hex (JsonBuilder  *b,
         const char   *name,
         const guint8 *data,
         gsize         len)
{
  g_autofree char *text = hex (data, len);

  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, text);
}

static int
fail (const char *what,
      sp_err      err)
{
  g_printerr ("%s: %s\n", what, sp_strerror (err));
  return 2;
}

static int
cmd_sign (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) authority = NULL;
  g_autoptr(SignetKey) pop = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) pop_pub = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *kid = NULL;
  g_autofree char *out = NULL;
  static const char aad[] = "signet interop aad";
  static const char *amr[] = { "pwd", "otp" };
  guint8 cti[16];
  guint8 buf[1024];
  size_t len;
  sp_err err;
  sp_cose_sign1_params params = { 0 };
  sp_cwt_claims claims = { 0 };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if ((authority = signet_key_generate (&error)) == NULL ||
      (pop = signet_key_generate (&error)) == NULL ||
      (payload = signet_random_bytes (100, &error)) == NULL ||
      !signet_random_fill (cti, sizeof cti, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  kid = signet_key_dup_thumbprint (authority);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "jwk");
  json_builder_add_value (b, signet_key_to_jwk_node (authority));
  json_builder_set_member_name (b, "kid");
  json_builder_add_string_value (b, kid);

  params.kid = (const uint8_t *) kid;
  params.kid_len = strlen (kid);
  params.content_type = "application/signet-test";
  params.external_aad = (const uint8_t *) aad;
  params.external_aad_len = strlen (aad);
  err = sp_cose_sign1_sign (port, signet_key_get_sp_key (authority), &params,
                            g_bytes_get_data (payload, NULL), g_bytes_get_size (payload),
                            buf, sizeof buf, &len);
  if (err != SP_OK)
    return fail ("COSE_Sign1", err);
  add_hex (b, "sign1", buf, len);
  add_hex (b, "aad", (const guint8 *) aad, strlen (aad));

  /* A service token as signetd will issue it, bound to the PoP key. */
  pop_pub = signet_key_get_public_bytes (pop);
  claims.present = SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | SP_CWT_IAT |
                   SP_CWT_CTI | SP_CWT_CNF | SP_CWT_SCOPE | SP_CWT_AMR | SP_CWT_ROLE |
                   SP_CWT_AUTH_TIME;
  claims.iss = sp_cwt_text_from ("https://signet.test");
  claims.sub = sp_cwt_text_from ("alice");
  claims.aud = sp_cwt_text_from ("signet-device");
  claims.iat = now;
  claims.exp = now + 900;
  claims.auth_time = now;
  claims.cti = cti;
  claims.cti_len = sizeof cti;
  memcpy (claims.cnf.pub, g_bytes_get_data (pop_pub, NULL), SP_P256_PUB_LEN);
  claims.scope = sp_cwt_text_from ("config.write credential.rotate");
  claims.amr[0] = sp_cwt_text_from (amr[0]);
  claims.amr[1] = sp_cwt_text_from (amr[1]);
  claims.amr_count = 2;
  claims.role = sp_cwt_text_from ("technician");
  err = sp_cwt_sign (port, signet_key_get_sp_key (authority), (const uint8_t *) kid,
                     strlen (kid), &claims, buf, sizeof buf, &len);
  if (err != SP_OK)
    return fail ("CWT", err);
  add_hex (b, "cwt", buf, len);

  json_builder_set_member_name (b, "claims");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "iss");
  json_builder_add_string_value (b, "https://signet.test");
  json_builder_set_member_name (b, "sub");
  json_builder_add_string_value (b, "alice");
  json_builder_set_member_name (b, "aud");
  json_builder_add_string_value (b, "signet-device");
  json_builder_set_member_name (b, "iat");
  json_builder_add_int_value (b, now);
  json_builder_set_member_name (b, "exp");
  json_builder_add_int_value (b, now + 900);
  json_builder_set_member_name (b, "auth_time");
  json_builder_add_int_value (b, now);
  add_hex (b, "cti", cti, sizeof cti);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "technician");
  json_builder_set_member_name (b, "amr");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, amr[0]);
  json_builder_add_string_value (b, amr[1]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "cnf_jwk");
  json_builder_add_value (b, signet_key_to_jwk_node (pop));
  json_builder_end_object (b);

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, NULL);
  g_print ("%s\n", out);
  return 0;
}

static int
cmd_verify (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(GBytes) aad = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *out = NULL;
  JsonObject *req;
  JsonArray *objects;
  char chunk[4096];
  size_t n;

  while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
    g_string_append_len (input, chunk, (gssize) n);
  if (!json_parser_load_from_data (parser, input->str, (gssize) input->len, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_printerr ("bad request\n");
      return 2;
    }
  req = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (req, "jwk") || !json_object_has_member (req, "sign1") ||
      (objects = json_object_get_array_member (req, "sign1")) == NULL ||
      (aad = unhex (json_object_get_string_member_with_default (req, "aad", ""))) == NULL ||
      (key = signet_key_new_from_jwk_node (json_object_get_member (req, "jwk"), &error)) == NULL)
    {
      g_printerr ("bad request%s%s\n", error ? ": " : "", error ? error->message : "");
      return 2;
    }
  pub = signet_key_get_public_bytes (key);

  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (objects); i++)
    {
      g_autoptr(GBytes) blob = unhex (json_array_get_string_element (objects, i));
      sp_cose_sign1 msg;
      sp_err err;

      if (blob == NULL)
        {
          g_printerr ("bad hex in sign1[%u]\n", i);
          return 2;
        }
      err = sp_cose_sign1_decode (g_bytes_get_data (blob, NULL), g_bytes_get_size (blob),
                                  NULL, &msg);
      if (err == SP_OK)
        err = sp_cose_sign1_verify (port, &msg, g_bytes_get_data (pub, NULL),
                                    g_bytes_get_data (aad, NULL), g_bytes_get_size (aad));
      json_builder_add_string_value (b, err == SP_OK ? "" : sp_strerror (err));
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, NULL);
  g_print ("%s\n", out);
  return 0;
}

int
main (int    argc,
      char **argv)
{
  if (argc == 2 && g_str_equal (argv[1], "sign"))
    return cmd_sign ();
  if (argc == 2 && g_str_equal (argv[1], "verify"))
    return cmd_verify ();
  g_printerr ("usage: %s sign | verify < request.json\n", argv[0]);
  return 2;
}
