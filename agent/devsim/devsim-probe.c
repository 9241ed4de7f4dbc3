/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "devsim-agent.h"
#include "devsim-error.h"
#include "devsim-platform.h"
#include "devsim-probe.h"
#include "signet-crypto.h"
#include "sp-cbor.h"

#define MSG_HELLO 1
#define MSG_ATTEST 2
#define RESPONSE_BIT 0x80u
#define PROBE_MSG_MAX 2048
#define PROBE_ITEMS 64

void
devsim_device_info_free (DevsimDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial);
  g_free (info->model);
  g_free (info->firmware);
  g_clear_pointer (&info->chain, g_ptr_array_unref);
  g_free (info);
}

GBytes *
devsim_probe_request (guint          type,
                      guint32        id,
                      const guint8  *body,
                      gsize          body_len)
{
  guint8 buf[PROBE_MSG_MAX];
  sp_cbor_writer w;
  size_t len = 0;

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, body != NULL ? 3 : 2);
  sp_cbor_put_uint (&w, 0);
  sp_cbor_put_uint (&w, type);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_uint (&w, id);
  if (body != NULL)
    {
      sp_cbor_put_uint (&w, 2);
      sp_cbor_put_bytes (&w, body, body_len);
    }
  g_assert (sp_cbor_writer_finish (&w, &len) == SP_OK);
  return g_bytes_new (buf, len);
}

static gboolean G_GNUC_PRINTF (2, 3)
agent_error (GError    **error,
             const char *format,
             ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_AGENT, "The device's answer: %s", msg);
  return FALSE;
}

/* Send a request, decode the answer, check its envelope. */
static gboolean
exchange (sa_agent       *agent,
          GBytes         *request,
          guint           type,
          guint8         *resp,
          sp_cbor_item   *items,
          sp_cbor_doc    *doc,
          GError        **error)
{
  gsize req_len = 0;
  const guint8 *req = g_bytes_get_data (request, &req_len);
  size_t len = sa_agent_handle (agent, req, req_len, resp, PROBE_MSG_MAX);
  size_t idx;
  uint64_t v;

  if (len == 0)
    return agent_error (error, "none to request type %u", type);
  if (sp_cbor_decode (resp, len, NULL, items, PROBE_ITEMS, doc) != SP_OK)
    return agent_error (error, "not CBOR");
  if (sp_cbor_map_find_int (doc, 0, 0, &idx) != SP_OK || sp_cbor_get_uint (doc, idx, &v) != SP_OK
      || v != (type | RESPONSE_BIT))
    return agent_error (error, "not a response to request type %u", type);
  if (sp_cbor_map_find_int (doc, 0, 2, &idx) != SP_OK || sp_cbor_get_uint (doc, idx, &v) != SP_OK)
    return agent_error (error, "no status");
  if (v != 0)
    return agent_error (error, "status %u to request type %u", (guint) v, type);
  return TRUE;
}

static char *
get_text (const sp_cbor_doc *doc,
          int64_t            key)
{
  const char *p;
  size_t len, idx;

  if (sp_cbor_map_find_int (doc, 0, key, &idx) != SP_OK
      || sp_cbor_get_text (doc, idx, &p, &len) != SP_OK)
    return NULL;
  return g_strndup (p, len);
}

static gboolean
get_uint (const sp_cbor_doc *doc,
          int64_t            key,
          guint64           *out)
{
  size_t idx;
  uint64_t v;

  if (sp_cbor_map_find_int (doc, 0, key, &idx) != SP_OK || sp_cbor_get_uint (doc, idx, &v) != SP_OK)
    return FALSE;
  *out = v;
  return TRUE;
}

DevsimDeviceInfo *
devsim_probe (DevsimFlash  *flash,
              DevsimModel  *model,
              GError      **error)
{
  g_autoptr(DevsimDeviceInfo) info = g_new0 (DevsimDeviceInfo, 1);
  g_autoptr(DevsimPlatform) platform = devsim_platform_new (flash);
  g_autoptr(DevsimAgent) agent = devsim_agent_new ();
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GBytes) attest = NULL;
  g_autofree guint8 *resp = g_malloc (PROBE_MSG_MAX);
  g_autofree sp_cbor_item *items = g_new (sp_cbor_item, PROBE_ITEMS);
  guint8 challenge[32];
  sp_cbor_doc doc;
  sp_cbor_iter it;
  size_t idx, cert;
  sp_err err;
  bool clock = false;

  err = sa_agent_boot (&agent->agent, devsim_platform_get (platform),
                       devsim_model_get_schema (model));
  if (err != SP_OK)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_AGENT, "The device does not boot: %s",
                   sp_strerror (err));
      return NULL;
    }

  hello = devsim_probe_request (MSG_HELLO, 1, NULL, 0);
  if (!exchange (&agent->agent, hello, MSG_HELLO, resp, items, &doc, error))
    return NULL;
  info->serial = get_text (&doc, 3);
  info->model = get_text (&doc, 4);
  info->firmware = get_text (&doc, 5);
  if (info->serial == NULL || info->model == NULL || info->firmware == NULL
      || !get_uint (&doc, 6, &info->config_version)
      || !get_uint (&doc, 8, &info->capabilities)
      || !get_uint (&doc, 10, &info->device_time)
      || !get_uint (&doc, 13, &info->revocation_version)
      || sp_cbor_map_find_int (&doc, 0, 11, &idx) != SP_OK
      || sp_cbor_get_bool (&doc, idx, &clock) != SP_OK)
    {
      agent_error (error, "HELLO lacks a field");
      return NULL;
    }
  info->has_clock = clock;

  signet_random_fill (challenge, sizeof challenge, NULL);
  attest = devsim_probe_request (MSG_ATTEST, 2, challenge, sizeof challenge);
  if (!exchange (&agent->agent, attest, MSG_ATTEST, resp, items, &doc, error))
    return NULL;
  info->chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (sp_cbor_map_find_int (&doc, 0, 4, &idx) != SP_OK
      || sp_cbor_iter_init (&it, &doc, idx, SP_CBOR_ARRAY) != SP_OK)
    {
      agent_error (error, "ATTEST has no chain");
      return NULL;
    }
  while (sp_cbor_iter_next (&it, &cert))
    {
      const uint8_t *p;
      size_t len;

      if (sp_cbor_get_bytes (&doc, cert, &p, &len) != SP_OK)
        {
          agent_error (error, "ATTEST's chain holds something else than certificates");
          return NULL;
        }
      g_ptr_array_add (info->chain, g_bytes_new (p, len));
    }

  sa_agent_get_status (&agent->agent, &info->status);
  return g_steal_pointer (&info);
}
