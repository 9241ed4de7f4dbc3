/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "devsim-report.h"
#include "signet-crypto.h"
#include "signet-x509.h"

char *
devsim_hex (const guint8 *data,
            gsize         len)
{
  static const char digits[] = "0123456789abcdef";
  char *out = g_malloc (2 * len + 1);
  gsize i;

  for (i = 0; i < len; i++)
    {
      out[2 * i] = digits[data[i] >> 4];
      out[2 * i + 1] = digits[data[i] & 0xf];
    }
  out[2 * len] = '\0';
  return out;
}

static void
add_uint (JsonBuilder *b,
          const char  *name,
          guint64      v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, (gint64) MIN (v, (guint64) G_MAXINT64));
}

void
devsim_report_add_status (JsonBuilder     *b,
                          const sa_status *st)
{
  g_autofree char *digest = devsim_hex (st->config_digest, sizeof st->config_digest);

  add_uint (b, "committed_version", st->committed_version);
  add_uint (b, "pending_version", st->pending_version);
  json_builder_set_member_name (b, "config_digest");
  json_builder_add_string_value (b, digest);
  add_uint (b, "clock_floor", st->clock_floor);
  add_uint (b, "revocation_version", st->revocation_version);
  add_uint (b, "boots", st->boots);
  add_uint (b, "deadline_rollbacks", st->deadline_rollbacks);
}

void
devsim_report_add_identity (JsonBuilder            *b,
                            const DevsimDeviceInfo *info)
{
  json_builder_set_member_name (b, "serial");
  json_builder_add_string_value (b, info->serial);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, info->model);
  json_builder_set_member_name (b, "firmware");
  json_builder_add_string_value (b, info->firmware);
  add_uint (b, "capabilities", info->capabilities);
  json_builder_set_member_name (b, "clock");
  json_builder_add_boolean_value (b, info->has_clock);
  add_uint (b, "chain_length", info->chain->len);
  if (info->chain->len > 0)
    {
      GBytes *leaf = g_ptr_array_index (info->chain, 0);
      g_autofree char *pem = signet_x509_pem_from_der (leaf, NULL);
      guint8 digest[SIGNET_SHA256_LEN];
      g_autofree char *hex = NULL;
      gsize len = 0;
      const guint8 *der = g_bytes_get_data (leaf, &len);

      signet_sha256_buf (der, len, digest);
      hex = devsim_hex (digest, sizeof digest);
      json_builder_set_member_name (b, "certificate");
      if (pem != NULL)
        json_builder_add_string_value (b, pem);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "certificate_sha256");
      json_builder_add_string_value (b, hex);
    }
}

char *
devsim_report_to_line (JsonBuilder *b)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, "\n", NULL);
}
