/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devsim-error.h"
#include "devsim-platform.h"
#include "signet-crypto-port.h"
#include "sp-cbor.h"

/* What the flash callbacks answer when the flash refuses an operation
 * (out of range, a write against NOR rules) or the state file fails:
 * sp_err has no storage code, and the agent turns any failure of a flash
 * call into its STORAGE status. */
#define DEVSIM_SP_ERR_FLASH SP_ERR_INVALID_ARG

typedef struct {
  char *key;
  char *value;   /* NULL: every check fails */
} HealthRule;

struct _DevsimPlatform {
  sa_platform platform;
  DevsimFlash *flash;          /* borrowed */
  gboolean has_clock;
  gint64 clock_offset;
  char *crash_point;
  guint crash_nth;
  guint crash_seen;
  GArray *health_rules;        /* HealthRule */
  DevsimPointFunc point_func;
  gpointer point_data;
};

static void
health_rule_clear (gpointer p)
{
  HealthRule *r = p;

  g_free (r->key);
  g_free (r->value);
}

/* ---- the sa_platform callbacks -------------------------------------------- */

static void
flash_failed (GError *error)
{
  /* The agent sees only an sp_err: say what happened where a person
   * looks, since it is either an agent bug or a host failure. */
  g_message ("flash: %s", error->message);
}

static sp_err
flash_read (void     *ctx,
            uint32_t  offset,
            uint8_t  *buf,
            size_t    len)
{
  DevsimPlatform *self = ctx;
  g_autoptr(GError) error = NULL;

  if (!devsim_flash_read (self->flash, offset, buf, len, &error))
    {
      flash_failed (error);
      return DEVSIM_SP_ERR_FLASH;
    }
  return SP_OK;
}

static sp_err
flash_write (void          *ctx,
             uint32_t       offset,
             const uint8_t *buf,
             size_t         len)
{
  DevsimPlatform *self = ctx;
  g_autoptr(GError) error = NULL;

  if (!devsim_flash_write (self->flash, offset, buf, len, &error))
    {
      flash_failed (error);
      return DEVSIM_SP_ERR_FLASH;
    }
  return SP_OK;
}

static sp_err
flash_erase (void     *ctx,
             uint32_t  offset)
{
  DevsimPlatform *self = ctx;
  g_autoptr(GError) error = NULL;

  if (!devsim_flash_erase (self->flash, offset, &error))
    {
      flash_failed (error);
      return DEVSIM_SP_ERR_FLASH;
    }
  return SP_OK;
}

static sp_err
flash_sha256 (void     *ctx,
              uint32_t  offset,
              uint32_t  len,
              uint8_t   out[SP_SHA256_LEN])
{
  DevsimPlatform *self = ctx;
  g_autoptr(GError) error = NULL;

  if (!devsim_flash_sha256 (self->flash, offset, len, out, &error))
    {
      flash_failed (error);
      return DEVSIM_SP_ERR_FLASH;
    }
  return SP_OK;
}

static bool
clock_now (void     *ctx,
           uint64_t *unix_seconds)
{
  DevsimPlatform *self = ctx;
  gint64 now;

  if (!self->has_clock)
    return false;
  now = g_get_real_time () / G_USEC_PER_SEC + self->clock_offset;
  if (now < 0)
    return false;
  *unix_seconds = (uint64_t) now;
  return true;
}

static uint64_t
monotonic_ms (void *ctx)
{
  return (uint64_t) (g_get_monotonic_time () / 1000);
}

/* The value of a staged configuration's entry as a rule compares it. */
static char *
value_text (const sp_cbor_doc *doc,
            size_t             idx)
{
  const char *p;
  size_t len;
  int64_t i;
  bool b;

  if (sp_cbor_get_text (doc, idx, &p, &len) == SP_OK)
    return g_strndup (p, len);
  if (sp_cbor_get_int (doc, idx, &i) == SP_OK)
    return g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) i);
  if (sp_cbor_get_bool (doc, idx, &b) == SP_OK)
    return g_strdup (b ? "true" : "false");
  return NULL;
}

static bool
health_check (void          *ctx,
              const uint8_t *config_cbor,
              size_t         len)
{
  DevsimPlatform *self = ctx;
  sp_cbor_item items[SP_CBOR_DEFAULT_MAX_ITEMS];
  sp_cbor_doc doc;
  sp_cbor_iter it;
  size_t k, v;
  guint i;

  if (self->health_rules->len == 0)
    return true;
  for (i = 0; i < self->health_rules->len; i++)
    if (g_array_index (self->health_rules, HealthRule, i).value == NULL)
      return false;

  /* The agent hands over the configuration it built; a device that cannot
   * read its own configuration fails the check. */
  if (sp_cbor_decode (config_cbor, len, NULL, items, G_N_ELEMENTS (items), &doc) != SP_OK
      || sp_cbor_iter_init (&it, &doc, 0, SP_CBOR_MAP) != SP_OK)
    return false;
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    {
      g_autofree char *text = value_text (&doc, v);

      if (text == NULL)
        continue;
      for (i = 0; i < self->health_rules->len; i++)
        {
          HealthRule *r = &g_array_index (self->health_rules, HealthRule, i);

          if (sp_cbor_text_equals (&doc, k, r->key) && g_str_equal (text, r->value))
            return false;
        }
    }
  return true;
}

static void
fault_point (void       *ctx,
             const char *point)
{
  DevsimPlatform *self = ctx;

  if (self->point_func != NULL)
    self->point_func (point, self->point_data);
  if (self->crash_point != NULL && g_str_equal (point, self->crash_point)
      && ++self->crash_seen == self->crash_nth)
    {
      static const char msg[] = "signet-devsim: simulated power loss at a fault point\n";

      if (write (STDERR_FILENO, msg, sizeof msg - 1) < 0)
        {
          /* the process is going away */
        }
      _exit (DEVSIM_EXIT_POWER_LOSS);
    }
}

/* ---- public API ------------------------------------------------------------ */

DevsimPlatform *
devsim_platform_new (DevsimFlash *flash)
{
  DevsimPlatform *self = g_new0 (DevsimPlatform, 1);

  self->flash = flash;
  self->has_clock = TRUE;
  self->health_rules = g_array_new (FALSE, TRUE, sizeof (HealthRule));
  g_array_set_clear_func (self->health_rules, health_rule_clear);

  self->platform.crypto = signet_crypto_port_openssl ();
  self->platform.flash.size = devsim_flash_get_size (flash);
  self->platform.flash.sector_size = devsim_flash_get_sector_size (flash);
  self->platform.flash.read = flash_read;
  self->platform.flash.write = flash_write;
  self->platform.flash.erase = flash_erase;
  self->platform.flash.sha256 = flash_sha256;
  self->platform.clock_now = clock_now;
  self->platform.monotonic_ms = monotonic_ms;
  self->platform.health_check = health_check;
  self->platform.fault_point = fault_point;
  self->platform.ctx = self;
  return self;
}

void
devsim_platform_free (DevsimPlatform *self)
{
  if (self == NULL)
    return;
  g_free (self->crash_point);
  g_array_unref (self->health_rules);
  g_free (self);
}

const sa_platform *
devsim_platform_get (DevsimPlatform *self)
{
  return &self->platform;
}

void
devsim_platform_set_clock (DevsimPlatform *self,
                           gboolean        has_clock,
                           gint64          offset)
{
  self->has_clock = has_clock;
  self->clock_offset = offset;
}

gboolean
devsim_platform_set_crash_at (DevsimPlatform  *self,
                              const char      *spec,
                              GError         **error)
{
  const char *colon = strrchr (spec, ':');
  guint64 nth = 1;

  if (colon != NULL && !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT, &nth, NULL))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "--crash-at takes POINT or POINT:N with N >= 1");
      return FALSE;
    }
  g_free (self->crash_point);
  self->crash_point = colon != NULL ? g_strndup (spec, (gsize) (colon - spec)) : g_strdup (spec);
  self->crash_nth = (guint) nth;
  self->crash_seen = 0;
  if (self->crash_point[0] == '\0')
    {
      g_clear_pointer (&self->crash_point, g_free);
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID, "--crash-at needs a point name");
      return FALSE;
    }
  return TRUE;
}

gboolean
devsim_platform_add_health_rule (DevsimPlatform  *self,
                                 const char      *rule,
                                 GError         **error)
{
  HealthRule r = { NULL, NULL };
  const char *eq = strchr (rule, '=');

  if (g_str_equal (rule, "*"))
    {
      r.key = g_strdup ("*");
      g_array_append_val (self->health_rules, r);
      return TRUE;
    }
  if (eq == NULL || eq == rule)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "--health-fail takes KEY=VALUE or *");
      return FALSE;
    }
  r.key = g_strndup (rule, (gsize) (eq - rule));
  r.value = g_strdup (eq + 1);
  g_array_append_val (self->health_rules, r);
  return TRUE;
}

void
devsim_platform_set_point_func (DevsimPlatform  *self,
                                DevsimPointFunc  func,
                                gpointer         user_data)
{
  self->point_func = func;
  self->point_data = user_data;
}
