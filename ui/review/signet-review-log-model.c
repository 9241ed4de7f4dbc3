/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-log-model.c: an event log as a lazily read GListModel.
 *
 * The index is chunked: chunk k holds the byte offset of its first record
 * and, for 65,536 records, each record's distance from it as 32 bits (a
 * record is at most 64 KiB, so 65,535 distances fit). Chunks never move
 * once written, and the table of chunk pointers is sized from the file
 * size up front (no record is shorter than 43 bytes), so the main thread
 * reads entries below the published count while the worker appends
 * after them; the count is published under a mutex, which orders the
 * writes before the reads.
 */
#include "config.h"

#include <string.h>

#include "signet-eventlog-chain.h"
#include "signet-review-log-model.h"

#define CHUNK_BITS 16
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define MIN_RECORD 43
/* Publish the first rows at once, then at most this often (µs). */
#define FIRST_PUBLISH 256
#define PUBLISH_INTERVAL (40 * 1000)

SignetReviewCategory
signet_review_category_for_type (const char *type,
                                 gsize       len)
{
#define IS(lit) (len == sizeof (lit) - 1 && memcmp (type, lit, len) == 0)
#define STARTS(lit) (len >= sizeof (lit) - 1 && memcmp (type, lit, sizeof (lit) - 1) == 0)
#define ENDS(lit) (len >= sizeof (lit) - 1 && \
                   memcmp (type + len - (sizeof (lit) - 1), lit, sizeof (lit) - 1) == 0)
  if (IS ("seal"))
    return SIGNET_REVIEW_CATEGORY_SEAL;
  if (ENDS (".error"))
    return SIGNET_REVIEW_CATEGORY_ERROR;
  if (IS ("device.receipt"))
    return SIGNET_REVIEW_CATEGORY_RECEIPT;
  if (STARTS ("device."))
    return SIGNET_REVIEW_CATEGORY_DEVICE;
  if (STARTS ("session."))
    return SIGNET_REVIEW_CATEGORY_SESSION;
  return SIGNET_REVIEW_CATEGORY_OTHER;
#undef IS
#undef STARTS
#undef ENDS
}

/* ---- SignetReviewEvent --------------------------------------------------- */

struct _SignetReviewEvent {
  GObject parent_instance;
  guint position;
  guint64 offset;
  SignetEventRecord *record;
  char *problem;
};

G_DEFINE_FINAL_TYPE (SignetReviewEvent, signet_review_event, G_TYPE_OBJECT)

static void
signet_review_event_finalize (GObject *object)
{
  SignetReviewEvent *self = SIGNET_REVIEW_EVENT (object);

  g_clear_pointer (&self->record, signet_event_record_unref);
  g_free (self->problem);
  G_OBJECT_CLASS (signet_review_event_parent_class)->finalize (object);
}

static void
signet_review_event_class_init (SignetReviewEventClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signet_review_event_finalize;
}

static void
signet_review_event_init (SignetReviewEvent *self)
{
}

guint
signet_review_event_get_position (SignetReviewEvent *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_EVENT (self), 0);
  return self->position;
}

guint64
signet_review_event_get_offset (SignetReviewEvent *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_EVENT (self), 0);
  return self->offset;
}

SignetEventRecord *
signet_review_event_get_record (SignetReviewEvent *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_EVENT (self), NULL);
  return self->record;
}

const char *
signet_review_event_get_problem (SignetReviewEvent *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_EVENT (self), NULL);
  return self->problem;
}

SignetReviewCategory
signet_review_event_get_category (SignetReviewEvent *self)
{
  const char *type;

  g_return_val_if_fail (SIGNET_IS_REVIEW_EVENT (self), SIGNET_REVIEW_CATEGORY_OTHER);
  if (self->record == NULL)
    return SIGNET_REVIEW_CATEGORY_ERROR;
  type = signet_event_record_get_record_type (self->record);
  return signet_review_category_for_type (type, strlen (type));
}

/* ---- the index shared with the worker ------------------------------------ */

typedef struct {
  guint64 base;
  guint32 delta[CHUNK_SIZE];
} Chunk;

typedef struct {
  gatomicrefcount ref_count;
  GWeakRef model;
  GCancellable *cancellable;
  GFile *file;           /* nullable */
  GMappedFile *mapped;   /* set by the worker before the first publish */
  GBytes *bytes;
  Chunk **chunks;        /* n_chunks_max pointers, filled by the worker */
  gsize n_chunks_max;

  GMutex lock;           /* guards what follows */
  guint published;       /* records the main thread may read */
  guint64 end_offset;
  gboolean done;
  gboolean idle_pending;
  GError *error;
  GArray *histogram;     /* SignetReviewBucket, sorted; a copy for the main thread */
  GArray *receipts;      /* guint */
  guint64 counts[SIGNET_REVIEW_N_CATEGORIES];
  guint64 first_time, last_time;
} Index;

static Index *
index_ref (Index *ix)
{
  g_atomic_ref_count_inc (&ix->ref_count);
  return ix;
}

static void
index_unref (Index *ix)
{
  if (!g_atomic_ref_count_dec (&ix->ref_count))
    return;
  g_weak_ref_clear (&ix->model);
  g_clear_object (&ix->cancellable);
  g_clear_object (&ix->file);
  if (ix->chunks != NULL)
    for (gsize i = 0; i < ix->n_chunks_max && ix->chunks[i] != NULL; i++)
      g_free (ix->chunks[i]);
  g_free (ix->chunks);
  g_clear_pointer (&ix->bytes, g_bytes_unref);
  g_clear_pointer (&ix->mapped, g_mapped_file_unref);
  g_mutex_clear (&ix->lock);
  g_clear_error (&ix->error);
  g_clear_pointer (&ix->histogram, g_array_unref);
  g_clear_pointer (&ix->receipts, g_array_unref);
  g_free (ix);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Index, index_unref)

/* ---- the model ----------------------------------------------------------- */

struct _SignetReviewLogModel {
  GObject parent_instance;
  Index *ix;
  guint n_items;          /* what the view was told */
  gboolean loading;
  GError *error;
  GArray *histogram;      /* main thread's copies */
  GArray *receipts;
  guint64 counts[SIGNET_REVIEW_N_CATEGORIES];
  guint64 first_time, last_time, end_offset;
  guint histogram_serial;
};

static void signet_review_log_model_list_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignetReviewLogModel, signet_review_log_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      signet_review_log_model_list_init))

enum {
  PROP_0,
  PROP_LOADING,
  PROP_N_ITEMS,
  PROP_HISTOGRAM_SERIAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static guint64
index_offset (Index *ix,
              guint  position)
{
  Chunk *c = ix->chunks[position >> CHUNK_BITS];

  return c->base + c->delta[position & (CHUNK_SIZE - 1)];
}

/* Main thread: take what the worker published. */
static gboolean
publish_idle (gpointer data)
{
  Index *ix = data;
  g_autoptr(SignetReviewLogModel) self = g_weak_ref_get (&ix->model);
  guint old_n, new_n;
  gboolean done;

  g_mutex_lock (&ix->lock);
  ix->idle_pending = FALSE;
  if (self == NULL)
    {
      g_mutex_unlock (&ix->lock);
      return G_SOURCE_REMOVE;
    }
  new_n = ix->published;
  done = ix->done;
  g_clear_pointer (&self->histogram, g_array_unref);
  self->histogram = g_array_ref (ix->histogram);
  g_clear_pointer (&self->receipts, g_array_unref);
  self->receipts = g_array_ref (ix->receipts);
  memcpy (self->counts, ix->counts, sizeof self->counts);
  self->first_time = ix->first_time;
  self->last_time = ix->last_time;
  self->end_offset = ix->end_offset;
  if (done && ix->error != NULL && self->error == NULL)
    self->error = g_error_copy (ix->error);
  g_mutex_unlock (&ix->lock);

  old_n = self->n_items;
  self->n_items = new_n;
  if (new_n != old_n)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), old_n, 0, new_n - old_n);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  self->histogram_serial++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HISTOGRAM_SERIAL]);
  if (done && self->loading)
    {
      self->loading = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
  return G_SOURCE_REMOVE;
}

static int
bucket_cmp (gconstpointer a,
            gconstpointer b)
{
  gint64 x = ((const SignetReviewBucket *) a)->minute;
  gint64 y = ((const SignetReviewBucket *) b)->minute;

  return x < y ? -1 : x > y;
}

typedef struct {
  GArray *buckets;        /* in order of first appearance */
  GHashTable *by_minute;  /* minute -> index + 1 */
  guint cur;              /* the bucket of the last record */
  gboolean sorted;        /* minutes appeared in rising order so far */
  GArray *receipts;
  guint64 counts[SIGNET_REVIEW_N_CATEGORIES];
  guint64 first_time, last_time;
} Stats;

static void
stats_add (Stats                *st,
           guint64               time_ms,
           SignetReviewCategory  cat,
           guint                 position)
{
  gint64 minute = (gint64) MIN (time_ms / 60000, (guint64) G_MAXINT64);
  SignetReviewBucket *b;

  if (st->buckets->len == 0 ||
      g_array_index (st->buckets, SignetReviewBucket, st->cur).minute != minute)
    {
      guint found = GPOINTER_TO_UINT (g_hash_table_lookup (st->by_minute, &minute));

      if (found == 0)
        {
          SignetReviewBucket nb = { .minute = minute };
          gint64 *key = g_new (gint64, 1);

          if (st->buckets->len > 0 &&
              g_array_index (st->buckets, SignetReviewBucket, st->buckets->len - 1).minute > minute)
            st->sorted = FALSE;
          g_array_append_val (st->buckets, nb);
          *key = minute;
          g_hash_table_insert (st->by_minute, key, GUINT_TO_POINTER (st->buckets->len));
          found = st->buckets->len;
        }
      st->cur = found - 1;
    }
  b = &g_array_index (st->buckets, SignetReviewBucket, st->cur);
  if (b->counts[cat] < G_MAXUINT32)
    b->counts[cat]++;
  st->counts[cat]++;
  if (cat == SIGNET_REVIEW_CATEGORY_RECEIPT)
    g_array_append_val (st->receipts, position);
  if (position == 0)
    st->first_time = time_ms;
  st->last_time = time_ms;
}

/* Worker: hand what is indexed so far to the main thread. */
static void
publish (Index   *ix,
         Stats   *st,
         guint    n,
         guint64  end_offset,
         gboolean done,
         GError  *error)
{
  GArray *hist = g_array_sized_new (FALSE, FALSE, sizeof (SignetReviewBucket), st->buckets->len);

  g_array_append_vals (hist, st->buckets->data, st->buckets->len);
  if (!st->sorted)
    g_array_sort (hist, bucket_cmp);

  g_mutex_lock (&ix->lock);
  ix->published = n;
  ix->end_offset = end_offset;
  ix->done = done;
  if (error != NULL)
    ix->error = error;
  g_clear_pointer (&ix->histogram, g_array_unref);
  ix->histogram = hist;
  g_clear_pointer (&ix->receipts, g_array_unref);
  ix->receipts = g_array_copy (st->receipts);
  memcpy (ix->counts, st->counts, sizeof ix->counts);
  ix->first_time = st->first_time;
  ix->last_time = st->last_time;
  if (!ix->idle_pending)
    {
      ix->idle_pending = TRUE;
      g_idle_add_full (G_PRIORITY_DEFAULT, publish_idle, index_ref (ix),
                       (GDestroyNotify) index_unref);
    }
  g_mutex_unlock (&ix->lock);
}

static void
index_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Index *ix = task_data;
  GError *error = NULL;
  Stats st = { 0 };
  const guint8 *data;
  gsize len, pos = 0;
  guint n = 0;
  gint64 last_publish = 0;

  if (ix->bytes == NULL)
    {
      g_autofree char *path = g_file_get_path (ix->file);

      if (path == NULL)
        error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                             "Only local files can be opened");
      else
        ix->mapped = g_mapped_file_new (path, FALSE, &error);
      if (ix->mapped != NULL)
        ix->bytes = g_mapped_file_get_bytes (ix->mapped);
    }
  /* The table of chunks, from the size: no record is shorter. */
  len = ix->bytes != NULL ? g_bytes_get_size (ix->bytes) : 0;
  ix->n_chunks_max = len / MIN_RECORD / CHUNK_SIZE + 1;
  ix->chunks = g_new0 (Chunk *, ix->n_chunks_max + 1);

  st.buckets = g_array_new (FALSE, FALSE, sizeof (SignetReviewBucket));
  st.by_minute = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  st.receipts = g_array_new (FALSE, FALSE, sizeof (guint));
  st.sorted = TRUE;

  data = ix->bytes != NULL ? g_bytes_get_data (ix->bytes, NULL) : NULL;
  while (error == NULL && pos < len)
    {
      gsize rec_len = 0, type_len = 0;
      guint64 time_ms = 0;
      const char *type = NULL;
      Chunk *c;

      switch (signet_event_log_peek (data + pos, len - pos, &rec_len, &time_ms,
                                     &type, &type_len))
        {
        case SIGNET_EVENT_LOG_PEEK_OK:
          break;
        case SIGNET_EVENT_LOG_PEEK_PARTIAL:
          error = g_error_new (SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                               "The log ends inside record %u (at byte %" G_GSIZE_FORMAT ")",
                               n, pos);
          continue;
        case SIGNET_EVENT_LOG_PEEK_INVALID:
        default:
          error = g_error_new (SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                               "Record %u (at byte %" G_GSIZE_FORMAT ") is not a record", n, pos);
          continue;
        }
      if (n == G_MAXUINT)
        {
          error = g_error_new_literal (SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_TOO_LARGE,
                                       "Too many records to show");
          continue;
        }

      c = ix->chunks[n >> CHUNK_BITS];
      if (c == NULL)
        {
          /* Not zeroed: only entries below the count are read. */
          c = g_malloc (sizeof (Chunk));
          c->base = pos;
          ix->chunks[n >> CHUNK_BITS] = c;
        }
      c->delta[n & (CHUNK_SIZE - 1)] = (guint32) (pos - c->base);
      stats_add (&st, time_ms, signet_review_category_for_type (type, type_len), n);
      n++;
      pos += rec_len;

      if (n == FIRST_PUBLISH || (n & 4095) == 0)
        {
          gint64 now = g_get_monotonic_time ();

          if (g_cancellable_is_cancelled (cancellable))
            break;
          if (n == FIRST_PUBLISH || now - last_publish >= PUBLISH_INTERVAL)
            {
              publish (ix, &st, n, pos, FALSE, NULL);
              last_publish = now;
            }
        }
    }
  publish (ix, &st, n, pos, TRUE, error);
  g_array_unref (st.buckets);
  g_hash_table_unref (st.by_minute);
  g_array_unref (st.receipts);
  g_task_return_boolean (task, TRUE);
}

static SignetReviewLogModel *
model_new (GFile  *file,
           GBytes *bytes)
{
  SignetReviewLogModel *self = g_object_new (SIGNET_TYPE_REVIEW_LOG_MODEL, NULL);
  g_autoptr(GTask) task = NULL;
  Index *ix = g_new0 (Index, 1);

  g_atomic_ref_count_init (&ix->ref_count);
  g_weak_ref_init (&ix->model, self);
  g_mutex_init (&ix->lock);
  ix->cancellable = g_cancellable_new ();
  ix->file = file != NULL ? g_object_ref (file) : NULL;
  ix->bytes = bytes != NULL ? g_bytes_ref (bytes) : NULL;
  ix->histogram = g_array_new (FALSE, FALSE, sizeof (SignetReviewBucket));
  ix->receipts = g_array_new (FALSE, FALSE, sizeof (guint));
  self->ix = ix;
  self->loading = TRUE;

  /* No source object: the task must not keep the model alive, so that
   * dropping the model cancels the pass (dispose). */
  task = g_task_new (NULL, ix->cancellable, NULL, NULL);
  g_task_set_source_tag (task, model_new);
  g_task_set_task_data (task, index_ref (ix), (GDestroyNotify) index_unref);
  g_task_run_in_thread (task, index_thread);
  return self;
}

static void
signet_review_log_model_dispose (GObject *object)
{
  SignetReviewLogModel *self = SIGNET_REVIEW_LOG_MODEL (object);

  if (self->ix != NULL)
    g_cancellable_cancel (self->ix->cancellable);
  G_OBJECT_CLASS (signet_review_log_model_parent_class)->dispose (object);
}

static void
signet_review_log_model_finalize (GObject *object)
{
  SignetReviewLogModel *self = SIGNET_REVIEW_LOG_MODEL (object);

  g_clear_pointer (&self->ix, index_unref);
  g_clear_error (&self->error);
  g_clear_pointer (&self->histogram, g_array_unref);
  g_clear_pointer (&self->receipts, g_array_unref);
  G_OBJECT_CLASS (signet_review_log_model_parent_class)->finalize (object);
}

static void
signet_review_log_model_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  SignetReviewLogModel *self = SIGNET_REVIEW_LOG_MODEL (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->n_items);
      break;
    case PROP_HISTOGRAM_SERIAL:
      g_value_set_uint (value, self->histogram_serial);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_review_log_model_class_init (SignetReviewLogModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_review_log_model_dispose;
  object_class->finalize = signet_review_log_model_finalize;
  object_class->get_property = signet_review_log_model_get_property;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_HISTOGRAM_SERIAL] =
    g_param_spec_uint ("histogram-serial", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
signet_review_log_model_init (SignetReviewLogModel *self)
{
}

static GType
list_get_item_type (GListModel *list)
{
  return SIGNET_TYPE_REVIEW_EVENT;
}

static guint
list_get_n_items (GListModel *list)
{
  return SIGNET_REVIEW_LOG_MODEL (list)->n_items;
}

static gpointer
list_get_item (GListModel *list,
               guint       position)
{
  return signet_review_log_model_get_event (SIGNET_REVIEW_LOG_MODEL (list), position);
}

static void
signet_review_log_model_list_init (GListModelInterface *iface)
{
  iface->get_item_type = list_get_item_type;
  iface->get_n_items = list_get_n_items;
  iface->get_item = list_get_item;
}

SignetReviewLogModel *
signet_review_log_model_new_for_file (GFile *file)
{
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  return model_new (file, NULL);
}

SignetReviewLogModel *
signet_review_log_model_new_for_bytes (GBytes *log)
{
  g_return_val_if_fail (log != NULL, NULL);
  return model_new (NULL, log);
}

gboolean
signet_review_log_model_get_loading (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), FALSE);
  return self->loading;
}

const GError *
signet_review_log_model_get_error (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);
  return self->error;
}

guint64
signet_review_log_model_get_end_offset (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), 0);
  return self->end_offset;
}

GBytes *
signet_review_log_model_get_bytes (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);
  /* Set by the worker before its first publish; read only after one. */
  if (self->loading && self->n_items == 0 && self->histogram_serial == 0)
    return NULL;
  return self->ix->bytes;
}

GFile *
signet_review_log_model_get_file (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);
  return self->ix->file;
}

guint64
signet_review_log_model_get_offset (SignetReviewLogModel *self,
                                    guint                 position)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), 0);
  g_return_val_if_fail (position < self->n_items, 0);
  return index_offset (self->ix, position);
}

SignetReviewEvent *
signet_review_log_model_get_event (SignetReviewLogModel *self,
                                   guint                 position)
{
  g_autoptr(GError) error = NULL;
  SignetReviewEvent *event;

  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);

  if (position >= self->n_items)
    return NULL;
  event = g_object_new (SIGNET_TYPE_REVIEW_EVENT, NULL);
  event->position = position;
  event->offset = index_offset (self->ix, position);
  event->record = signet_event_log_record_new_at (self->ix->bytes, event->offset, &error);
  if (event->record == NULL)
    event->problem = g_strdup (error->message);
  return event;
}

const SignetReviewBucket *
signet_review_log_model_get_histogram (SignetReviewLogModel *self,
                                       guint                *n_buckets)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);
  *n_buckets = self->histogram != NULL ? self->histogram->len : 0;
  /* GArray's data is malloc'ed: aligned for any type. */
  return self->histogram != NULL ? (const SignetReviewBucket *) (gpointer) self->histogram->data
                                 : NULL;
}

guint64
signet_review_log_model_get_category_count (SignetReviewLogModel *self,
                                            SignetReviewCategory  category)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), 0);
  g_return_val_if_fail (category < SIGNET_REVIEW_N_CATEGORIES, 0);
  return self->counts[category];
}

const guint *
signet_review_log_model_get_receipts (SignetReviewLogModel *self,
                                      guint                *n_receipts)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);
  *n_receipts = self->receipts != NULL ? self->receipts->len : 0;
  return self->receipts != NULL ? (const guint *) (gpointer) self->receipts->data : NULL;
}

guint64
signet_review_log_model_get_first_time (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), 0);
  return self->first_time;
}

guint64
signet_review_log_model_get_last_time (SignetReviewLogModel *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), 0);
  return self->last_time;
}

gsize
signet_review_log_model_get_index_size (SignetReviewLogModel *self)
{
  gsize size;
  guint n_chunks;

  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), 0);
  n_chunks = (self->n_items + CHUNK_SIZE - 1) / CHUNK_SIZE;
  size = n_chunks * sizeof (Chunk) + (self->ix->n_chunks_max + 1) * sizeof (Chunk *);
  if (self->histogram != NULL)
    size += self->histogram->len * sizeof (SignetReviewBucket);
  if (self->receipts != NULL)
    size += self->receipts->len * sizeof (guint);
  return size;
}

/* ---- the receipts of a log ----------------------------------------------- */

#define SIGNET_TYPE_REVIEW_RECEIPTS_MODEL (signet_review_receipts_model_get_type ())
G_DECLARE_FINAL_TYPE (SignetReviewReceiptsModel, signet_review_receipts_model, SIGNET,
                      REVIEW_RECEIPTS_MODEL, GObject)

struct _SignetReviewReceiptsModel {
  GObject parent_instance;
  SignetReviewLogModel *log;
  guint n_items;
};

static void signet_review_receipts_model_list_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignetReviewReceiptsModel, signet_review_receipts_model,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      signet_review_receipts_model_list_init))

static void
receipts_changed (SignetReviewReceiptsModel *self)
{
  guint n = 0, old = self->n_items;

  if (self->log != NULL)
    signet_review_log_model_get_receipts (self->log, &n);
  self->n_items = n;
  if (n > old)
    g_list_model_items_changed (G_LIST_MODEL (self), old, 0, n - old);
}

static void
signet_review_receipts_model_dispose (GObject *object)
{
  SignetReviewReceiptsModel *self = SIGNET_REVIEW_RECEIPTS_MODEL (object);

  if (self->log != NULL)
    g_signal_handlers_disconnect_by_data (self->log, self);
  g_clear_object (&self->log);
  G_OBJECT_CLASS (signet_review_receipts_model_parent_class)->dispose (object);
}

static void
signet_review_receipts_model_class_init (SignetReviewReceiptsModelClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = signet_review_receipts_model_dispose;
}

static void
signet_review_receipts_model_init (SignetReviewReceiptsModel *self)
{
}

static GType
receipts_get_item_type (GListModel *list)
{
  return SIGNET_TYPE_REVIEW_EVENT;
}

static guint
receipts_get_n_items (GListModel *list)
{
  return SIGNET_REVIEW_RECEIPTS_MODEL (list)->n_items;
}

static gpointer
receipts_get_item (GListModel *list,
                   guint       position)
{
  SignetReviewReceiptsModel *self = SIGNET_REVIEW_RECEIPTS_MODEL (list);
  const guint *pos;
  guint n;

  if (position >= self->n_items)
    return NULL;
  pos = signet_review_log_model_get_receipts (self->log, &n);
  return signet_review_log_model_get_event (self->log, pos[position]);
}

static void
signet_review_receipts_model_list_init (GListModelInterface *iface)
{
  iface->get_item_type = receipts_get_item_type;
  iface->get_n_items = receipts_get_n_items;
  iface->get_item = receipts_get_item;
}

GListModel *
signet_review_log_model_dup_receipts_model (SignetReviewLogModel *self)
{
  SignetReviewReceiptsModel *model;

  g_return_val_if_fail (SIGNET_IS_REVIEW_LOG_MODEL (self), NULL);
  model = g_object_new (SIGNET_TYPE_REVIEW_RECEIPTS_MODEL, NULL);
  model->log = g_object_ref (self);
  g_signal_connect_swapped (self, "notify::histogram-serial", G_CALLBACK (receipts_changed),
                            model);
  receipts_changed (model);
  return G_LIST_MODEL (model);
}
