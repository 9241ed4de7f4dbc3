/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>

#include "signet-serial-transport.h"
#include "sp-frame.h"

/* One message is one frame: the frame codec's payload bound is the
 * protocol's message bound (SP_MSG_MAX in sp-msg.h, 2048), so the
 * transport needs only sp-frame. */
#define MAX_MESSAGE SP_FRAME_MAX_PAYLOAD
#define READ_CHUNK 4096
/* Bytes read in one dispatch before other sources get their turn. */
#define READ_BUDGET (64 * 1024)

typedef enum {
  STATE_CLOSED,
  STATE_OPENING,
  STATE_OPEN,
  STATE_DISCONNECTED,   /* the link went away; the fd is closed, close() is due */
} State;

typedef enum {
  OP_SEND,
  OP_RECEIVE,
} OpKind;

/* A pending send or receive. Ops live in the transport's queues, which
 * own them; each holds its task (and so a reference on the transport). */
typedef struct {
  SignetSerialTransport *self;
  OpKind kind;
  GTask *task;
  GBytes *frame;            /* send: the whole frame, delimiter included */
  gsize off;                /* send: bytes of frame written so far */
  GSource *timeout_source;
  GSource *cancel_source;
} Op;

/* What the open worker hands back. */
typedef struct {
  char *path;
  guint serial;
  int fd;                   /* -1 until opened; closed here unless taken */
} OpenData;

struct _SignetSerialTransport {
  GObject parent_instance;

  char *path;
  guint receive_timeout;
  guint send_timeout;

  GMainContext *context;
  State state;
  int fd;
  GSource *read_source;
  GSource *write_source;
  GSource *resume_source;   /* restarts reading after the inbox was full */

  GTask *open_task;         /* the caller's open, while OPENING */
  GCancellable *open_cancellable; /* the worker's */
  GSource *open_cancel_source;    /* watches the caller's cancellable */
  guint open_serial;        /* tells the current worker from a stale one */

  GQueue sends;             /* (element-type Op): the head is being written */
  GQueue receives;          /* (element-type Op): waiting, in call order */
  GQueue inbox;             /* (element-type GBytes): received, not asked for yet */
  gboolean resync;          /* write one 0x00 before the next frame */

  sp_deframer deframer;
  guint8 deframe_buf[SP_DEFRAMER_BUF_MAX];
  guint8 read_buf[READ_CHUNK];
  gsize read_pos;           /* read_buf[read_pos..read_len) is not deframed yet */
  gsize read_len;

  SignetSerialStats stats;
};

static void signet_serial_transport_iface_init (SignetTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignetSerialTransport, signet_serial_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (SIGNET_TYPE_TRANSPORT,
                                                      signet_serial_transport_iface_init))

enum {
  PROP_0,
  PROP_PATH,
  PROP_RECEIVE_TIMEOUT,
  PROP_SEND_TIMEOUT,
  PROP_FRAMES_DROPPED,
  N_PROPS,
  /* SignetTransport's */
  PROP_NAME = N_PROPS,
  PROP_MAX_MESSAGE,
  PROP_MTU,
  PROP_CAPABILITIES,
  PROP_CONNECTED,
};

static GParamSpec *properties[N_PROPS];

/* ---- errors --------------------------------------------------------------- */

static GError *
error_new (SignetTransportError code, const char *format, ...) G_GNUC_PRINTF (2, 3);

static GError *
error_new (SignetTransportError code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  return g_error_new_literal (SIGNET_TRANSPORT_ERROR, code, message);
}

/* errno of a read or write on an open tty: those that mean the device is
 * gone are DISCONNECTED (EIO is what a ttyACM gives once unplugged). */
static SignetTransportError
code_for_io_errno (int err)
{
  switch (err)
    {
    case EIO:
    case EPIPE:
    case ENXIO:
    case ENODEV:
    case ESHUTDOWN:
      return SIGNET_TRANSPORT_ERROR_DISCONNECTED;
    default:
      return SIGNET_TRANSPORT_ERROR_IO;
    }
}

/* ---- ops ------------------------------------------------------------------ */

static void
source_clear (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
op_free (Op *op)
{
  source_clear (&op->timeout_source);
  source_clear (&op->cancel_source);
  g_clear_pointer (&op->frame, g_bytes_unref);
  g_clear_object (&op->task);
  g_free (op);
}

static GTask *
task_new (SignetSerialTransport *self,
          GCancellable          *cancellable,
          GAsyncReadyCallback    callback,
          gpointer               user_data,
          gpointer               source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* Our own CANCELLED code, and a result that was there before a late
   * cancel is kept: GTask must not replace either with G_IO_ERROR_CANCELLED. */
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static GError *
cancelled_error (void)
{
  return error_new (SIGNET_TRANSPORT_ERROR_CANCELLED, "Cancelled");
}

static void stop_writing (SignetSerialTransport *self);

/* Take op out of its queue and complete it with error (taken). A send cut
 * off halfway leaves a partial frame on the wire: the next frame starts
 * with a 0x00 so that the device drops the partial one and not the next. */
static void
op_fail (Op     *op,
         GError *error)
{
  SignetSerialTransport *self = op->self;
  GTask *task;

  if (op->kind == OP_SEND)
    {
      if (g_queue_peek_head (&self->sends) == op && op->off > 0)
        {
          self->resync = TRUE;
          self->stats.sends_abandoned++;
        }
      g_queue_remove (&self->sends, op);
      if (g_queue_is_empty (&self->sends))
        stop_writing (self);
    }
  else
    {
      g_queue_remove (&self->receives, op);
    }
  task = g_steal_pointer (&op->task);
  op_free (op);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static gboolean
on_op_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  /* op_fail touches nothing of the transport after the callback. */
  op_fail (user_data, cancelled_error ());
  return G_SOURCE_REMOVE;
}

static gboolean
on_op_timeout (gpointer user_data)
{
  Op *op = user_data;
  g_autoptr(SignetSerialTransport) self = g_object_ref (op->self);

  if (op->kind == OP_SEND)
    op_fail (op, error_new (SIGNET_TRANSPORT_ERROR_TIMEOUT,
                            "%s did not take the message within %u ms",
                            self->path, self->send_timeout));
  else
    op_fail (op, error_new (SIGNET_TRANSPORT_ERROR_TIMEOUT,
                            "No message from %s within %u ms",
                            self->path, self->receive_timeout));
  return G_SOURCE_REMOVE;
}

static Op *
op_new (SignetSerialTransport *self,
        OpKind                 kind,
        GTask                 *task,
        guint                  timeout_ms)
{
  Op *op = g_new0 (Op, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  op->self = self;
  op->kind = kind;
  op->task = g_object_ref (task);
  if (timeout_ms > 0)
    {
      op->timeout_source = g_timeout_source_new (timeout_ms);
      g_source_set_callback (op->timeout_source, on_op_timeout, op, NULL);
      g_source_attach (op->timeout_source, self->context);
    }
  if (cancellable != NULL)
    {
      /* Cancellation may come from any thread; a cancellable source brings
       * it to our context. */
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (on_op_cancelled), op, NULL);
      g_source_attach (op->cancel_source, self->context);
    }
  return op;
}

/* Complete every op of queue (taken by the caller, so that callbacks that
 * start new operations see the new state and an empty queue) with a copy
 * of error. */
static void
fail_taken (GQueue       *taken,
            const GError *error)
{
  Op *op;

  while ((op = g_queue_pop_head (taken)) != NULL)
    {
      GTask *task = g_steal_pointer (&op->task);

      op_free (op);
      g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
}

static void
take_queue (GQueue *from,
            GQueue *to)
{
  *to = *from;
  g_queue_init (from);
}

/* ---- reading -------------------------------------------------------------- */

static void
stop_reading (SignetSerialTransport *self)
{
  source_clear (&self->read_source);
  source_clear (&self->resume_source);
}

static void
stop_writing (SignetSerialTransport *self)
{
  source_clear (&self->write_source);
}

static void
release_fd (SignetSerialTransport *self)
{
  stop_reading (self);
  stop_writing (self);
  if (self->fd >= 0)
    {
      /* Unsent output would make close () wait for it (a ttyACM's
       * closing_wait is 30 s); exclusivity would outlive us on a pty,
       * whose tty lives as long as its master. */
      tcflush (self->fd, TCIOFLUSH);
      ioctl (self->fd, TIOCNXCL);
      close (self->fd);
      self->fd = -1;
    }
  sp_deframer_reset (&self->deframer);
  self->read_pos = self->read_len = 0;
}

static void
disconnect (SignetSerialTransport *self,
            GError                *error)
{
  GQueue sends, receives;

  if (self->state != STATE_OPEN)
    {
      g_error_free (error);
      return;
    }
  g_debug ("%s: %s", self->path, error->message);
  /* Every state change first, then the callbacks. */
  self->state = STATE_DISCONNECTED;
  release_fd (self);
  take_queue (&self->sends, &sends);
  take_queue (&self->receives, &receives);
  g_object_notify (G_OBJECT (self), "connected");
  g_signal_emit_by_name (self, "disconnected", error);
  fail_taken (&sends, error);
  fail_taken (&receives, error);
  g_error_free (error);
}

static void
deliver (SignetSerialTransport *self,
         GBytes                *message)
{
  Op *op = g_queue_pop_head (&self->receives);
  GTask *task;

  self->stats.frames_received++;
  if (op == NULL)
    {
      g_queue_push_tail (&self->inbox, message);
      return;
    }
  task = g_steal_pointer (&op->task);
  op_free (op);
  g_task_return_pointer (task, message, (GDestroyNotify) g_bytes_unref);
  g_object_unref (task);
}

/* Move the deframer's counters into ours (they are 32-bit and wrap). */
static void
collect_frame_stats (SignetSerialTransport *self)
{
  sp_deframer_stats *d = &self->deframer.stats;

  if (d->crc != 0 || d->cobs != 0 || d->oversize != 0)
    g_debug ("%s: dropped a bad frame (crc %u, cobs %u, oversize %u)",
             self->path, d->crc, d->cobs, d->oversize);
  self->stats.bad_crc += d->crc;
  self->stats.bad_cobs += d->cobs;
  self->stats.oversize += d->oversize;
  self->stats.empty += d->empty;
  memset (d, 0, sizeof *d);
}

/* Deframe what was read and not deframed yet. FALSE when the inbox is full
 * (the rest waits in read_buf). */
static gboolean
deframe_pending (SignetSerialTransport *self)
{
  while (self->state == STATE_OPEN && self->read_pos < self->read_len)
    {
      const uint8_t *payload = NULL;
      size_t payload_len = 0;
      size_t n;

      if (g_queue_get_length (&self->inbox) >= SIGNET_SERIAL_TRANSPORT_INBOX_MAX)
        return FALSE;
      n = sp_deframer_push (&self->deframer, self->read_buf + self->read_pos,
                            self->read_len - self->read_pos, &payload, &payload_len);
      self->read_pos += n;
      collect_frame_stats (self);
      if (payload != NULL)
        deliver (self, g_bytes_new (payload, payload_len));
    }
  return TRUE;
}

static gboolean on_readable (int fd, GIOCondition condition, gpointer user_data);

static void
start_reading (SignetSerialTransport *self)
{
  if (self->read_source != NULL)
    return;
  self->read_source = g_unix_fd_source_new (self->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (self->read_source, G_SOURCE_FUNC (on_readable), self, NULL);
  g_source_attach (self->read_source, self->context);
}

static gboolean
on_readable (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  g_autoptr(SignetSerialTransport) self = g_object_ref (user_data);
  guint64 dropped = signet_serial_transport_get_frames_dropped (self);
  gsize total = 0;

  for (;;)
    {
      gssize n;

      if (!deframe_pending (self))
        {
          /* Inbox full: let the tty's buffers (and the device) wait. */
          stop_reading (self);
          break;
        }
      if (self->state != STATE_OPEN || total >= READ_BUDGET)
        break;
      n = read (self->fd, self->read_buf, sizeof self->read_buf);
      if (n > 0)
        {
          self->read_pos = 0;
          self->read_len = (gsize) n;
          self->stats.bytes_received += (guint64) n;
          total += (gsize) n;
          continue;
        }
      if (n == 0)
        {
          /* End of file on a tty in raw mode (VMIN 1) is a hang-up: the
           * pty's peer closed, or the port was hung up. */
          disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                       "%s hung up", self->path));
          break;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          if (condition & (G_IO_HUP | G_IO_ERR))
            disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                         "%s hung up", self->path));
          break;
        }
      {
        int err = errno;

        disconnect (self, error_new (code_for_io_errno (err), "Reading %s failed: %s",
                                     self->path, g_strerror (err)));
      }
      break;
    }
  if (signet_serial_transport_get_frames_dropped (self) != dropped)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAMES_DROPPED]);
  return self->read_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
on_resume (gpointer user_data)
{
  g_autoptr(SignetSerialTransport) self = g_object_ref (user_data);

  g_clear_pointer (&self->resume_source, g_source_unref);
  if (self->state == STATE_OPEN && self->read_source == NULL && deframe_pending (self))
    start_reading (self);
  return G_SOURCE_REMOVE;
}

/* After a receive took a message from a full inbox: read again, from an
 * idle so that the caller's callback is not re-entered. */
static void
maybe_resume_reading (SignetSerialTransport *self)
{
  if (self->state != STATE_OPEN || self->read_source != NULL || self->resume_source != NULL)
    return;
  self->resume_source = g_idle_source_new ();
  g_source_set_callback (self->resume_source, on_resume, self, NULL);
  g_source_attach (self->resume_source, self->context);
}

/* ---- writing -------------------------------------------------------------- */

static gboolean on_writable (int fd, GIOCondition condition, gpointer user_data);

static void
start_writing (SignetSerialTransport *self)
{
  if (self->write_source != NULL)
    return;
  self->write_source = g_unix_fd_source_new (self->fd, G_IO_OUT | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (self->write_source, G_SOURCE_FUNC (on_writable), self, NULL);
  g_source_attach (self->write_source, self->context);
}

/* Write as much of the queue as the tty takes now. Returns FALSE on a
 * write error (the transport is then disconnected). */
static gboolean
pump_writes (SignetSerialTransport *self)
{
  Op *op;

  while (self->state == STATE_OPEN && (op = g_queue_peek_head (&self->sends)) != NULL)
    {
      gsize len;
      const guint8 *frame = g_bytes_get_data (op->frame, &len);
      gssize n;

      if (self->resync && op->off == 0)
        {
          static const guint8 delimiter = SP_FRAME_DELIMITER;

          n = write (self->fd, &delimiter, 1);
          if (n == 1)
            {
              self->resync = FALSE;
              self->stats.bytes_sent++;
            }
        }
      else
        {
          n = write (self->fd, frame + op->off, len - op->off);
          if (n > 0)
            {
              op->off += (gsize) n;
              self->stats.bytes_sent += (guint64) n;
              if (op->off == len)
                {
                  GTask *task;

                  g_queue_pop_head (&self->sends);
                  self->stats.frames_sent++;
                  task = g_steal_pointer (&op->task);
                  op_free (op);
                  g_task_return_boolean (task, TRUE);
                  g_object_unref (task);
                }
            }
        }
      if (n > 0)
        continue;
      if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
        {
          start_writing (self);
          return TRUE;
        }
      if (errno == EINTR)
        continue;
      {
        int err = errno;

        disconnect (self, error_new (code_for_io_errno (err), "Writing to %s failed: %s",
                                     self->path, g_strerror (err)));
      }
      return FALSE;
    }
  if (g_queue_is_empty (&self->sends))
    stop_writing (self);
  return TRUE;
}

static gboolean
on_writable (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  g_autoptr(SignetSerialTransport) self = g_object_ref (user_data);

  if ((condition & (G_IO_HUP | G_IO_ERR)) && !(condition & G_IO_OUT))
    disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED, "%s hung up", self->path));
  else
    pump_writes (self);
  return self->write_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---- opening -------------------------------------------------------------- */

static void
open_data_free (OpenData *od)
{
  if (od->fd >= 0)
    {
      ioctl (od->fd, TIOCNXCL);
      close (od->fd);
    }
  g_free (od->path);
  g_free (od);
}

/* open () errno -> error. */
static GError *
open_error (const char *path,
            int         err)
{
  switch (err)
    {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND, "No device at %s", path);
    case EACCES:
    case EPERM:
      return error_new (SIGNET_TRANSPORT_ERROR_PERMISSION_DENIED,
                        "Not allowed to open %s (the user needs to be in the group that owns "
                        "it, dialout on Debian)", path);
    case EBUSY:
      return error_new (SIGNET_TRANSPORT_ERROR_BUSY, "%s is in use by another program", path);
    default:
      return error_new (SIGNET_TRANSPORT_ERROR_IO, "Could not open %s: %s", path,
                        g_strerror (err));
    }
}

/* Blocking: runs in a worker thread. Returns the fd, or -1 with error. */
static int
open_tty (const char  *path,
          GError     **error)
{
  struct termios tio;
  int fd;
  int bits = TIOCM_DTR | TIOCM_RTS;

  fd = open (path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      g_propagate_error (error, open_error (path, errno));
      return -1;
    }
  if (!isatty (fd))
    {
      g_propagate_error (error, error_new (SIGNET_TRANSPORT_ERROR_IO,
                                           "%s is not a serial port", path));
      close (fd);
      return -1;
    }
  /* Two locks: flock () keeps out other users of this library (and
   * holds for root, which TIOCEXCL does not); TIOCEXCL keeps out every
   * other unprivileged open (a terminal program, ModemManager's probe). */
  if (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      int err = errno;

      close (fd);
      if (err == EWOULDBLOCK)
        g_propagate_error (error, error_new (SIGNET_TRANSPORT_ERROR_BUSY,
                                             "%s is in use by another program", path));
      else
        g_propagate_error (error, error_new (SIGNET_TRANSPORT_ERROR_IO,
                                             "Could not lock %s: %s", path, g_strerror (err)));
      return -1;
    }
  if (ioctl (fd, TIOCEXCL) < 0)
    g_debug ("%s: TIOCEXCL: %s", path, g_strerror (errno));

  if (tcgetattr (fd, &tio) < 0)
    goto termios_failed;
  /* Raw 8N1: no line editing, echo, signals or character translation;
   * no software or hardware flow control (CDC-ACM flow-controls on USB);
   * CLOCAL so that a missing carrier never blocks or hangs up. VMIN 1,
   * VTIME 0: with O_NONBLOCK a read () then gives EAGAIN when there is
   * nothing, and 0 only at a hang-up (VMIN 0 would also give 0 for
   * "nothing yet"). The baud rate means nothing to CDC-ACM; 115200 is
   * what devsim's pty says. */
  cfmakeraw (&tio);
  tio.c_cflag &= ~(tcflag_t) (CSIZE | PARENB | CSTOPB | CRTSCTS);
  tio.c_cflag |= CS8 | CLOCAL | CREAD;
  tio.c_iflag &= ~(tcflag_t) (IXON | IXOFF | IXANY);
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  cfsetispeed (&tio, B115200);
  cfsetospeed (&tio, B115200);
  if (tcsetattr (fd, TCSANOW, &tio) < 0)
    goto termios_failed;
  /* tcsetattr () succeeds if any change was made: check the ones that
   * matter for a byte-exact link. */
  if (tcgetattr (fd, &tio) < 0)
    goto termios_failed;
  if ((tio.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)) != 0 ||
      (tio.c_iflag & (ICRNL | INLCR | IGNCR | ISTRIP | IXON)) != 0 ||
      (tio.c_oflag & OPOST) != 0 || (tio.c_cflag & CSIZE) != CS8)
    {
      g_propagate_error (error, error_new (SIGNET_TRANSPORT_ERROR_IO,
                                           "%s refused raw mode", path));
      close (fd);
      return -1;
    }
  /* Whatever the device said before we came is not for us. */
  tcflush (fd, TCIOFLUSH);
  /* A CDC-ACM device learns from DTR that a host opened the port. A pty
   * has no modem lines (ENOTTY, EINVAL): fine. */
  if (ioctl (fd, TIOCMBIS, &bits) < 0 && errno != ENOTTY && errno != EINVAL)
    g_debug ("%s: TIOCMBIS: %s", path, g_strerror (errno));
  return fd;

termios_failed:
  {
    int err = errno;

    close (fd);
    g_propagate_error (error, error_new (SIGNET_TRANSPORT_ERROR_IO,
                                         "Could not set up %s: %s", path, g_strerror (err)));
    return -1;
  }
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenData *od = task_data;
  GError *error = NULL;
  int fd;

  fd = open_tty (od->path, &error);
  if (fd < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  /* The open was cancelled (or the transport closed) meanwhile, and the
   * task already returned: the fd is nobody's. */
  if (!g_task_set_return_on_cancel (task, FALSE))
    {
      ioctl (fd, TIOCNXCL);
      close (fd);
      return;
    }
  od->fd = fd;
  g_task_return_boolean (task, TRUE);
}

static void
clear_opening (SignetSerialTransport *self)
{
  source_clear (&self->open_cancel_source);
  g_clear_object (&self->open_cancellable);
}

/* Complete the caller's open with error (taken) and go back to CLOSED. */
static void
open_fail (SignetSerialTransport *self,
           GError                *error)
{
  GTask *task = g_steal_pointer (&self->open_task);

  self->open_serial++;
  if (self->open_cancellable != NULL)
    g_cancellable_cancel (self->open_cancellable);
  clear_opening (self);
  self->state = STATE_CLOSED;
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
on_open_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SignetSerialTransport) self = g_object_ref (SIGNET_SERIAL_TRANSPORT (source));
  OpenData *od = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;
  GTask *task;

  /* Closed or cancelled while the worker ran: open_data_free closes the fd. */
  if (self->state != STATE_OPENING || od->serial != self->open_serial)
    return;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      open_fail (self, error);
      return;
    }
  self->fd = od->fd;
  od->fd = -1;
  self->state = STATE_OPEN;
  self->resync = TRUE;
  sp_deframer_reset (&self->deframer);
  self->read_pos = self->read_len = 0;
  start_reading (self);
  clear_opening (self);
  task = g_steal_pointer (&self->open_task);
  g_debug ("%s: open", self->path);
  g_object_notify (G_OBJECT (self), "connected");
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_open_cancelled (GCancellable *cancellable,
                   gpointer      user_data)
{
  g_autoptr(SignetSerialTransport) self = g_object_ref (user_data);

  if (self->state == STATE_OPENING)
    open_fail (self, cancelled_error ());
  return G_SOURCE_REMOVE;
}

/* Back to CLOSED from any state, failing what is pending with error. */
static void
shut_down (SignetSerialTransport *self,
           const GError          *error)
{
  gboolean was_connected = self->state == STATE_OPEN;
  GTask *open_task = NULL;
  GQueue sends, receives;

  /* Every state change first, then the callbacks. */
  if (self->state == STATE_OPENING)
    {
      open_task = g_steal_pointer (&self->open_task);
      self->open_serial++;
      g_cancellable_cancel (self->open_cancellable);
      clear_opening (self);
    }
  release_fd (self);
  self->state = STATE_CLOSED;
  g_queue_clear_full (&self->inbox, (GDestroyNotify) g_bytes_unref);
  take_queue (&self->sends, &sends);
  take_queue (&self->receives, &receives);

  if (was_connected)
    g_object_notify (G_OBJECT (self), "connected");
  if (open_task != NULL)
    {
      g_task_return_error (open_task, g_error_copy (error));
      g_object_unref (open_task);
    }
  fail_taken (&sends, error);
  fail_taken (&receives, error);
}

/* ---- SignetTransport ------------------------------------------------------ */

static void
signet_serial_transport_open_async (SignetTransport     *transport,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (transport);
  g_autoptr(GTask) task = task_new (self, cancellable, callback, user_data,
                                    signet_serial_transport_open_async);
  g_autoptr(GTask) worker = NULL;
  OpenData *od;

  if (self->state == STATE_OPEN || self->state == STATE_OPENING)
    {
      g_task_return_new_error (task, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_BUSY,
                               "%s is already open", self->path);
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, cancelled_error ());
      return;
    }
  if (self->state == STATE_DISCONNECTED)
    {
      g_autoptr(GError) error = error_new (SIGNET_TRANSPORT_ERROR_CLOSED, "Closed");

      shut_down (self, error);
    }

  self->state = STATE_OPENING;
  self->open_task = g_object_ref (task);
  self->open_cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      self->open_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->open_cancel_source, G_SOURCE_FUNC (on_open_cancelled),
                             self, NULL);
      g_source_attach (self->open_cancel_source, self->context);
    }

  od = g_new0 (OpenData, 1);
  od->path = g_strdup (self->path);
  od->serial = ++self->open_serial;
  od->fd = -1;
  worker = g_task_new (self, self->open_cancellable, on_open_done, NULL);
  g_task_set_source_tag (worker, open_thread);
  g_task_set_task_data (worker, od, (GDestroyNotify) open_data_free);
  g_task_set_return_on_cancel (worker, TRUE);
  g_task_run_in_thread (worker, open_thread);
}

static gboolean
signet_serial_transport_open_finish (SignetTransport  *transport,
                                     GAsyncResult     *result,
                                     GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        signet_serial_transport_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The error for an operation on a transport that is not open. */
static GError *
not_open_error (SignetSerialTransport *self)
{
  if (self->state == STATE_DISCONNECTED)
    return error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED, "%s is disconnected", self->path);
  return error_new (SIGNET_TRANSPORT_ERROR_CLOSED, "%s is not open", self->path);
}

static void
signet_serial_transport_send_async (SignetTransport     *transport,
                                    GBytes              *message,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (transport);
  g_autoptr(GTask) task = task_new (self, cancellable, callback, user_data,
                                    signet_serial_transport_send_async);
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  guint8 *frame;
  size_t frame_len = 0;
  sp_err err;
  Op *op;

  if (len > MAX_MESSAGE)
    {
      g_task_return_new_error (task, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TOO_LARGE,
                               "A message of %" G_GSIZE_FORMAT " bytes is over the limit of "
                               "%u bytes", len, (guint) MAX_MESSAGE);
      return;
    }
  if (self->state != STATE_OPEN)
    {
      g_task_return_error (task, not_open_error (self));
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, cancelled_error ());
      return;
    }

  frame = g_malloc (SP_FRAME_ENCODED_SIZE (len));
  err = sp_frame_encode (data, len, frame, SP_FRAME_ENCODED_SIZE (len), &frame_len);
  /* The size was checked and the buffer is the codec's own bound. */
  g_assert (err == SP_OK);

  op = op_new (self, OP_SEND, task, self->send_timeout);
  op->frame = g_bytes_new_take (frame, frame_len);
  g_queue_push_tail (&self->sends, op);
  if (g_queue_get_length (&self->sends) == 1)
    pump_writes (self);
}

static gboolean
signet_serial_transport_send_finish (SignetTransport  *transport,
                                     GAsyncResult     *result,
                                     GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        signet_serial_transport_send_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
signet_serial_transport_receive_async (SignetTransport     *transport,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (transport);
  g_autoptr(GTask) task = task_new (self, cancellable, callback, user_data,
                                    signet_serial_transport_receive_async);
  GBytes *message;

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, cancelled_error ());
      return;
    }
  message = g_queue_pop_head (&self->inbox);
  if (message != NULL)
    {
      g_task_return_pointer (task, message, (GDestroyNotify) g_bytes_unref);
      maybe_resume_reading (self);
      return;
    }
  if (self->state != STATE_OPEN)
    {
      g_task_return_error (task, not_open_error (self));
      return;
    }
  g_queue_push_tail (&self->receives, op_new (self, OP_RECEIVE, task, self->receive_timeout));
}

static GBytes *
signet_serial_transport_receive_finish (SignetTransport  *transport,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        signet_serial_transport_receive_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
signet_serial_transport_close (SignetTransport *transport)
{
  g_autoptr(SignetSerialTransport) self = g_object_ref (SIGNET_SERIAL_TRANSPORT (transport));
  g_autoptr(GError) error = NULL;

  if (self->state == STATE_CLOSED)
    return;
  error = error_new (SIGNET_TRANSPORT_ERROR_CLOSED, "%s was closed", self->path);
  g_debug ("%s: closed", self->path);
  shut_down (self, error);
}

static void
signet_serial_transport_iface_init (SignetTransportInterface *iface)
{
  iface->open_async = signet_serial_transport_open_async;
  iface->open_finish = signet_serial_transport_open_finish;
  iface->send_async = signet_serial_transport_send_async;
  iface->send_finish = signet_serial_transport_send_finish;
  iface->receive_async = signet_serial_transport_receive_async;
  iface->receive_finish = signet_serial_transport_receive_finish;
  iface->close = signet_serial_transport_close;
}

/* ---- GObject -------------------------------------------------------------- */

static void
signet_serial_transport_dispose (GObject *object)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (object);

  /* Pending operations hold references through their tasks, so there are
   * none left here; this only lets go of the tty. */
  release_fd (self);
  clear_opening (self);
  g_queue_clear_full (&self->inbox, (GDestroyNotify) g_bytes_unref);
  self->state = STATE_CLOSED;

  G_OBJECT_CLASS (signet_serial_transport_parent_class)->dispose (object);
}

static void
signet_serial_transport_finalize (GObject *object)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (object);

  g_free (self->path);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (signet_serial_transport_parent_class)->finalize (object);
}

static void
signet_serial_transport_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_PATH:
    case PROP_NAME:
      g_value_set_string (value, self->path);
      break;
    case PROP_RECEIVE_TIMEOUT:
      g_value_set_uint (value, self->receive_timeout);
      break;
    case PROP_SEND_TIMEOUT:
      g_value_set_uint (value, self->send_timeout);
      break;
    case PROP_FRAMES_DROPPED:
      g_value_set_uint64 (value, signet_serial_transport_get_frames_dropped (self));
      break;
    case PROP_MAX_MESSAGE:
    case PROP_MTU:
      g_value_set_uint (value, MAX_MESSAGE);
      break;
    case PROP_CAPABILITIES:
      g_value_set_flags (value, SIGNET_TRANSPORT_CAPABILITY_PIPELINE |
                                SIGNET_TRANSPORT_CAPABILITY_INTEGRITY);
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->state == STATE_OPEN);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_serial_transport_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  SignetSerialTransport *self = SIGNET_SERIAL_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      break;
    case PROP_RECEIVE_TIMEOUT:
      signet_serial_transport_set_receive_timeout (self, g_value_get_uint (value));
      break;
    case PROP_SEND_TIMEOUT:
      signet_serial_transport_set_send_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_serial_transport_class_init (SignetSerialTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_serial_transport_dispose;
  object_class->finalize = signet_serial_transport_finalize;
  object_class->get_property = signet_serial_transport_get_property;
  object_class->set_property = signet_serial_transport_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RECEIVE_TIMEOUT] =
    g_param_spec_uint ("receive-timeout", NULL, NULL, 0, G_MAXUINT,
                       SIGNET_SERIAL_TRANSPORT_RECEIVE_TIMEOUT_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEND_TIMEOUT] =
    g_param_spec_uint ("send-timeout", NULL, NULL, 0, G_MAXUINT,
                       SIGNET_SERIAL_TRANSPORT_SEND_TIMEOUT_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRAMES_DROPPED] =
    g_param_spec_uint64 ("frames-dropped", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_object_class_override_property (object_class, PROP_NAME, "name");
  g_object_class_override_property (object_class, PROP_MAX_MESSAGE, "max-message");
  g_object_class_override_property (object_class, PROP_MTU, "mtu");
  g_object_class_override_property (object_class, PROP_CAPABILITIES, "capabilities");
  g_object_class_override_property (object_class, PROP_CONNECTED, "connected");
}

static void
signet_serial_transport_init (SignetSerialTransport *self)
{
  self->fd = -1;
  self->state = STATE_CLOSED;
  self->receive_timeout = SIGNET_SERIAL_TRANSPORT_RECEIVE_TIMEOUT_DEFAULT;
  self->send_timeout = SIGNET_SERIAL_TRANSPORT_SEND_TIMEOUT_DEFAULT;
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->sends);
  g_queue_init (&self->receives);
  g_queue_init (&self->inbox);
  sp_deframer_init (&self->deframer, self->deframe_buf, sizeof self->deframe_buf);
}

/* ---- public API ----------------------------------------------------------- */

SignetSerialTransport *
signet_serial_transport_new (const char *path)
{
  g_return_val_if_fail (path != NULL && path[0] != '\0', NULL);

  return g_object_new (SIGNET_TYPE_SERIAL_TRANSPORT, "path", path, NULL);
}

const char *
signet_serial_transport_get_path (SignetSerialTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self), NULL);

  return self->path;
}

guint
signet_serial_transport_get_receive_timeout (SignetSerialTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self), 0);

  return self->receive_timeout;
}

void
signet_serial_transport_set_receive_timeout (SignetSerialTransport *self,
                                             guint                  ms)
{
  g_return_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self));

  if (self->receive_timeout == ms)
    return;
  self->receive_timeout = ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECEIVE_TIMEOUT]);
}

guint
signet_serial_transport_get_send_timeout (SignetSerialTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self), 0);

  return self->send_timeout;
}

void
signet_serial_transport_set_send_timeout (SignetSerialTransport *self,
                                          guint                  ms)
{
  g_return_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self));

  if (self->send_timeout == ms)
    return;
  self->send_timeout = ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEND_TIMEOUT]);
}

void
signet_serial_transport_get_stats (SignetSerialTransport *self,
                                   SignetSerialStats     *stats)
{
  g_return_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self));
  g_return_if_fail (stats != NULL);

  *stats = self->stats;
}

guint64
signet_serial_transport_get_frames_dropped (SignetSerialTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_SERIAL_TRANSPORT (self), 0);

  return self->stats.bad_crc + self->stats.bad_cobs + self->stats.oversize;
}
