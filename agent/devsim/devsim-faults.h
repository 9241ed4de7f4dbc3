/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-faults.h: a bad serial line, on purpose (DESIGN.md §8, faults).
 *
 * The run loop cuts both directions of the byte stream into frames at
 * their 0x00 delimiters (DevsimFrameSplitter) and hands each frame to
 * devsim_faults_apply (), which passes it, drops it, flips one random bit
 * in it, or sends it twice, with the configured probabilities. Randomness
 * comes from one generator seeded with the configured seed, so a run with
 * the same seed and the same traffic does the same things.
 *
 * A frame that is only a delimiter (a resync byte) always passes.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DEVSIM_FAULT_PASS,
  DEVSIM_FAULT_DROP,
  DEVSIM_FAULT_CORRUPT,
  DEVSIM_FAULT_DUPLICATE,
} DevsimFaultAction;

typedef struct {
  double drop_rate;        /* each 0..1, their sum at most 1 */
  double corrupt_rate;
  double duplicate_rate;
  guint64 seed;
} DevsimFaultConfig;

typedef struct _DevsimFaults DevsimFaults;

/* DEVSIM_ERROR_INVALID for rates outside 0..1 or summing above 1.
 * Returns: (transfer full) (nullable) */
DevsimFaults      *devsim_faults_new        (const DevsimFaultConfig  *config,
                                             GError                  **error);
void               devsim_faults_free       (DevsimFaults             *self);

/* TRUE if any rate is above 0. */
gboolean           devsim_faults_enabled    (DevsimFaults             *self);

/* Judge frame[0..len) (delimiter included) and append what goes on to
 * out: nothing, the frame, a damaged copy, or the frame twice. */
DevsimFaultAction  devsim_faults_apply      (DevsimFaults             *self,
                                             const guint8             *frame,
                                             gsize                     len,
                                             GByteArray               *out);

/* "pass", "drop", "corrupt", "duplicate". Returns: (transfer none) */
const char        *devsim_fault_action_to_string (DevsimFaultAction    action);

/* Cuts a byte stream into frames, each ending with its 0x00 delimiter.
 * Bytes without a delimiter for longer than DEVSIM_FRAME_SPLIT_MAX go on
 * as one "frame" (line noise need not be kept forever). */
#define DEVSIM_FRAME_SPLIT_MAX (16 * 1024)

typedef void (*DevsimFrameFunc) (const guint8 *frame,
                                 gsize         len,
                                 gpointer      user_data);

typedef struct {
  GByteArray *pending;
} DevsimFrameSplitter;

void devsim_frame_splitter_init  (DevsimFrameSplitter  *self);
void devsim_frame_splitter_clear (DevsimFrameSplitter  *self);
/* Forget a partial frame (after a hang-up). */
void devsim_frame_splitter_reset (DevsimFrameSplitter  *self);
void devsim_frame_splitter_push  (DevsimFrameSplitter  *self,
                                  const guint8         *data,
                                  gsize                 len,
                                  DevsimFrameFunc       func,
                                  gpointer              user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimFaults, devsim_faults_free)

G_END_DECLS
