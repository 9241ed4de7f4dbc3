/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "signet-transport.h"

G_DEFINE_QUARK (signet-transport-error-quark, signet_transport_error)

G_DEFINE_FLAGS_TYPE (SignetTransportCapabilities, signet_transport_capabilities,
  G_DEFINE_ENUM_VALUE (SIGNET_TRANSPORT_CAPABILITY_NONE, "none"),
  G_DEFINE_ENUM_VALUE (SIGNET_TRANSPORT_CAPABILITY_PIPELINE, "pipeline"),
  G_DEFINE_ENUM_VALUE (SIGNET_TRANSPORT_CAPABILITY_INTEGRITY, "integrity"),
  G_DEFINE_ENUM_VALUE (SIGNET_TRANSPORT_CAPABILITY_RELIABLE, "reliable"),
  G_DEFINE_ENUM_VALUE (SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL, "bulk-channel"))

G_DEFINE_INTERFACE (SignetTransport, signet_transport, G_TYPE_OBJECT)

static void
signet_transport_default_init (SignetTransportInterface *iface)
{
  g_object_interface_install_property (iface,
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_uint ("max-message", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_uint ("mtu", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_flags ("capabilities", NULL, NULL, SIGNET_TYPE_TRANSPORT_CAPABILITIES,
                        SIGNET_TRANSPORT_CAPABILITY_NONE,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_interface_install_property (iface,
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * SignetTransport::disconnected:
   * @self: the transport
   * @error: why (SIGNET_TRANSPORT_ERROR domain)
   *
   * The link went away by itself: emitted once per open, never on close.
   */
  g_signal_new ("disconnected", SIGNET_TYPE_TRANSPORT, G_SIGNAL_RUN_LAST, 0,
                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

void
signet_transport_open_async (SignetTransport     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_TRANSPORT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  SIGNET_TRANSPORT_GET_IFACE (self)->open_async (self, cancellable, callback, user_data);
}

gboolean
signet_transport_open_finish (SignetTransport  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return SIGNET_TRANSPORT_GET_IFACE (self)->open_finish (self, result, error);
}

void
signet_transport_send_async (SignetTransport     *self,
                             GBytes              *message,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_TRANSPORT (self));
  g_return_if_fail (message != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  SIGNET_TRANSPORT_GET_IFACE (self)->send_async (self, message, cancellable, callback,
                                                 user_data);
}

gboolean
signet_transport_send_finish (SignetTransport  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return SIGNET_TRANSPORT_GET_IFACE (self)->send_finish (self, result, error);
}

void
signet_transport_receive_async (SignetTransport     *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_TRANSPORT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  SIGNET_TRANSPORT_GET_IFACE (self)->receive_async (self, cancellable, callback, user_data);
}

GBytes *
signet_transport_receive_finish (SignetTransport  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return SIGNET_TRANSPORT_GET_IFACE (self)->receive_finish (self, result, error);
}

void
signet_transport_close (SignetTransport *self)
{
  g_return_if_fail (SIGNET_IS_TRANSPORT (self));

  SIGNET_TRANSPORT_GET_IFACE (self)->close (self);
}

void
signet_transport_open_channel_async (SignetTransport     *self,
                                     guint16              psm,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  SignetTransportInterface *iface;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SIGNET_IS_TRANSPORT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = SIGNET_TRANSPORT_GET_IFACE (self);
  if (iface->open_channel_async != NULL)
    {
      iface->open_channel_async (self, psm, cancellable, callback, user_data);
      return;
    }
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_transport_open_channel_async);
  g_task_return_new_error (task, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                           "This link has no separate bulk channel");
}

gboolean
signet_transport_open_channel_finish (SignetTransport  *self,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  SignetTransportInterface *iface;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = SIGNET_TRANSPORT_GET_IFACE (self);
  if (g_async_result_is_tagged (result, signet_transport_open_channel_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return iface->open_channel_finish (self, result, error);
}

char *
signet_transport_dup_name (SignetTransport *self)
{
  char *name = NULL;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), NULL);

  g_object_get (self, "name", &name, NULL);
  return name;
}

guint
signet_transport_get_max_message (SignetTransport *self)
{
  guint value = 0;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), 0);

  g_object_get (self, "max-message", &value, NULL);
  return value;
}

guint
signet_transport_get_mtu (SignetTransport *self)
{
  guint value = 0;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), 0);

  g_object_get (self, "mtu", &value, NULL);
  return value;
}

SignetTransportCapabilities
signet_transport_get_capabilities (SignetTransport *self)
{
  SignetTransportCapabilities value = SIGNET_TRANSPORT_CAPABILITY_NONE;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), SIGNET_TRANSPORT_CAPABILITY_NONE);

  g_object_get (self, "capabilities", &value, NULL);
  return value;
}

gboolean
signet_transport_is_connected (SignetTransport *self)
{
  gboolean value = FALSE;

  g_return_val_if_fail (SIGNET_IS_TRANSPORT (self), FALSE);

  g_object_get (self, "connected", &value, NULL);
  return value;
}
