/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "devsim-error.h"
#include "devsim-faults.h"

struct _DevsimFaults {
  DevsimFaultConfig config;
  GRand *rand;
};

static gboolean
rate_ok (double r)
{
  return r >= 0.0 && r <= 1.0;
}

DevsimFaults *
devsim_faults_new (const DevsimFaultConfig  *config,
                   GError                  **error)
{
  DevsimFaults *self;
  guint32 seed[2] = { (guint32) config->seed, (guint32) (config->seed >> 32) };

  if (!rate_ok (config->drop_rate) || !rate_ok (config->corrupt_rate)
      || !rate_ok (config->duplicate_rate)
      || config->drop_rate + config->corrupt_rate + config->duplicate_rate > 1.0)
    {
      g_set_error_literal (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                           "Fault rates are probabilities from 0 to 1 whose sum is at most 1");
      return NULL;
    }
  self = g_new0 (DevsimFaults, 1);
  self->config = *config;
  self->rand = g_rand_new_with_seed_array (seed, G_N_ELEMENTS (seed));
  return self;
}

void
devsim_faults_free (DevsimFaults *self)
{
  if (self == NULL)
    return;
  g_rand_free (self->rand);
  g_free (self);
}

gboolean
devsim_faults_enabled (DevsimFaults *self)
{
  return self->config.drop_rate > 0.0 || self->config.corrupt_rate > 0.0
         || self->config.duplicate_rate > 0.0;
}

const char *
devsim_fault_action_to_string (DevsimFaultAction action)
{
  switch (action)
    {
    case DEVSIM_FAULT_PASS:
      return "pass";
    case DEVSIM_FAULT_DROP:
      return "drop";
    case DEVSIM_FAULT_CORRUPT:
      return "corrupt";
    case DEVSIM_FAULT_DUPLICATE:
      return "duplicate";
    default:
      g_assert_not_reached ();
    }
  return NULL;
}

DevsimFaultAction
devsim_faults_apply (DevsimFaults *self,
                     const guint8 *frame,
                     gsize         len,
                     GByteArray   *out)
{
  const DevsimFaultConfig *c = &self->config;
  gsize body = len > 0 && frame[len - 1] == 0 ? len - 1 : len;
  double u;

  if (body == 0 || !devsim_faults_enabled (self))
    {
      g_byte_array_append (out, frame, (guint) len);
      return DEVSIM_FAULT_PASS;
    }

  /* One draw picks the action, so each rate is exactly its share. */
  u = g_rand_double (self->rand);
  if (u < c->drop_rate)
    return DEVSIM_FAULT_DROP;
  if (u < c->drop_rate + c->corrupt_rate)
    {
      guint at = out->len + (guint) g_rand_int_range (self->rand, 0, (gint32) body);

      g_byte_array_append (out, frame, (guint) len);
      out->data[at] ^= (guint8) (1u << g_rand_int_range (self->rand, 0, 8));
      return DEVSIM_FAULT_CORRUPT;
    }
  g_byte_array_append (out, frame, (guint) len);
  if (u < c->drop_rate + c->corrupt_rate + c->duplicate_rate)
    {
      g_byte_array_append (out, frame, (guint) len);
      return DEVSIM_FAULT_DUPLICATE;
    }
  return DEVSIM_FAULT_PASS;
}

void
devsim_frame_splitter_init (DevsimFrameSplitter *self)
{
  self->pending = g_byte_array_new ();
}

void
devsim_frame_splitter_clear (DevsimFrameSplitter *self)
{
  g_clear_pointer (&self->pending, g_byte_array_unref);
}

void
devsim_frame_splitter_reset (DevsimFrameSplitter *self)
{
  g_byte_array_set_size (self->pending, 0);
}

void
devsim_frame_splitter_push (DevsimFrameSplitter *self,
                            const guint8        *data,
                            gsize                len,
                            DevsimFrameFunc      func,
                            gpointer             user_data)
{
  while (len > 0)
    {
      const guint8 *end = memchr (data, 0, len);
      gsize n = end != NULL ? (gsize) (end - data) + 1 : len;

      if (self->pending->len == 0 && end != NULL)
        func (data, n, user_data);   /* a whole frame: no copy */
      else
        {
          g_byte_array_append (self->pending, data, (guint) n);
          if (end != NULL || self->pending->len > DEVSIM_FRAME_SPLIT_MAX)
            {
              g_autoptr(GByteArray) frame = self->pending;

              self->pending = g_byte_array_new ();
              func (frame->data, frame->len, user_data);
            }
        }
      data += n;
      len -= n;
    }
}
