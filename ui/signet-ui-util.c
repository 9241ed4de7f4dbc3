/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-ui-util.c: see signet-ui-util.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-device-session.h"
#include "signet-service-client.h"
#include "signet-session.h"
#include "signet-transport.h"
#include "signet-ui-util.h"

char *
signet_ui_format_countdown (gint64 seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds >= 3600)
    return g_strdup_printf ("%d:%02d:%02d", (int) (seconds / 3600), (int) (seconds / 60 % 60),
                            (int) (seconds % 60));
  return g_strdup_printf ("%d:%02d", (int) (seconds / 60), (int) (seconds % 60));
}

const char *
signet_ui_role_label (const char *role)
{
  if (role == NULL)
    return "";
  if (g_str_equal (role, "technician"))
    return _("Technician");
  if (g_str_equal (role, "supervisor"))
    return _("Supervisor");
  if (g_str_equal (role, "admin"))
    return _("Administrator");
  return role;
}

gboolean
signet_ui_role_can_review (const char *role)
{
  return g_strcmp0 (role, "supervisor") == 0 || g_strcmp0 (role, "admin") == 0;
}

gboolean
signet_ui_error_is_step_up (const GError *error)
{
  return g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED) ||
         g_error_matches (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_STEP_UP);
}

char *
signet_ui_describe_error (const GError *error)
{
  if (error == NULL)
    return g_strdup (_("Something went wrong"));

  if (error->domain == SIGNET_SERVICE_ERROR)
    {
      switch ((SignetServiceError) error->code)
        {
        case SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS:
          return g_strdup (_("The username, password or code is wrong"));
        case SIGNET_SERVICE_ERROR_UNREACHABLE:
        case SIGNET_SERVICE_ERROR_TIMEOUT:
          return g_strdup_printf (_("The service cannot be reached (%s). Check the address "
                                    "and the network."), error->message);
        case SIGNET_SERVICE_ERROR_CERTIFICATE_MISMATCH:
          return g_strdup (_("The service’s certificate does not match the imported CA "
                             "certificate: this may not be your service. Import the right "
                             "certificate, or ask your administrator."));
        case SIGNET_SERVICE_ERROR_TLS:
          return g_strdup_printf (_("A secure connection to the service failed: %s"),
                                  error->message);
        case SIGNET_SERVICE_ERROR_UNAUTHORIZED:
          return g_strdup (_("The service no longer accepts this session: sign in again"));
        case SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED:
          return g_strdup (_("This change needs a fresh code"));
        default:
          break;
        }
    }
  else if (error->domain == SIGNET_SESSION_ERROR)
    {
      if (error->code == SIGNET_SESSION_ERROR_EXPIRED ||
          error->code == SIGNET_SESSION_ERROR_NOT_SIGNED_IN)
        return g_strdup (_("The session has ended: sign in again"));
    }
  else if (error->domain == SIGNET_DEVICE_ERROR)
    {
      switch ((SignetDeviceError) error->code)
        {
        case SIGNET_DEVICE_ERROR_DISCONNECTED:
          return g_strdup (_("The device was disconnected"));
        case SIGNET_DEVICE_ERROR_TIMEOUT:
          return g_strdup (_("The device does not answer"));
        case SIGNET_DEVICE_ERROR_CANCELLED:
          return g_strdup (_("Cancelled"));
        default:
          break;
        }
    }
  else if (error->domain == SIGNET_TRANSPORT_ERROR)
    {
      if (error->code == SIGNET_TRANSPORT_ERROR_BUSY)
        return g_strdup_printf (_("The device is in use by another program: %s"),
                                error->message);
      if (error->code == SIGNET_TRANSPORT_ERROR_PERMISSION_DENIED)
        return g_strdup_printf (_("You may not open this port: %s"), error->message);
    }
  return g_strdup (error->message);
}

static const struct {
  const char *type;
  const char *icon;
  const char *label;
} event_kinds[] = {
  { "session.start", "media-playback-start-symbolic", N_("Log started") },
  { "session.sign_in", "avatar-default-symbolic", N_("Signed in") },
  { "session.refresh", "view-refresh-symbolic", N_("Token renewed") },
  { "session.step_up", "dialog-password-symbolic", N_("Fresh code given") },
  { "session.expired", "alarm-symbolic", N_("Session expired") },
  { "session.end", "media-playback-stop-symbolic", N_("Log ended") },
  { "seal", "channel-secure-symbolic", N_("Sealed") },
  { "device.hello", "network-wired-symbolic", N_("Device connected") },
  { "device.attest", "security-high-symbolic", N_("Device attested") },
  { "device.revocation", "view-list-symbolic", N_("Revocation list sent") },
  { "device.authorize", "emblem-system-symbolic", N_("Device authorized") },
  { "device.apply", "document-send-symbolic", N_("Change applied") },
  { "device.commit", "object-select-symbolic", N_("Change committed") },
  { "device.rollback", "edit-undo-symbolic", N_("Change rolled back") },
  { "device.receipt", "mail-read-symbolic", N_("Receipt from the device") },
  { "device.bulk_begin", "folder-download-symbolic", N_("Transfer started") },
  { "device.bulk", "folder-download-symbolic", N_("Firmware transferred") },
  { "device.error", "dialog-warning-symbolic", N_("Device error") },
  { "device.recovery", "view-refresh-symbolic", N_("Recovered") },
  { "device.bye", "network-offline-symbolic", N_("Device disconnected") },
};

const char *
signet_ui_event_icon (const char *type)
{
  for (guint i = 0; i < G_N_ELEMENTS (event_kinds); i++)
    if (g_strcmp0 (type, event_kinds[i].type) == 0)
      return event_kinds[i].icon;
  if (type != NULL && g_str_has_suffix (type, "error"))
    return "dialog-warning-symbolic";
  return "text-x-generic-symbolic";
}

const char *
signet_ui_event_label (const char *type)
{
  for (guint i = 0; i < G_N_ELEMENTS (event_kinds); i++)
    if (g_strcmp0 (type, event_kinds[i].type) == 0)
      return _(event_kinds[i].label);
  return type;
}

char *
signet_ui_format_time_ms (guint64 time_ms)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc ((gint64) (time_ms / 1000));
  g_autoptr(GDateTime) local = NULL;

  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%H:%M:%S");
}

char *
signet_ui_hex (GBytes *bytes)
{
  const guint8 *p;
  gsize len = 0;
  GString *s;

  if (bytes == NULL)
    return NULL;
  p = g_bytes_get_data (bytes, &len);
  s = g_string_sized_new (len * 2 + 1);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

char *
signet_ui_group_hex (const char *hex)
{
  GString *s = g_string_new (NULL);
  gsize len = hex != NULL ? strlen (hex) : 0;

  for (gsize i = 0; i + 1 < len; i += 2)
    {
      if (i > 0)
        g_string_append_c (s, (i / 2) % 16 == 0 ? '\n' : ':');
      g_string_append_len (s, hex + i, 2);
    }
  return g_string_free (s, FALSE);
}

char *
signet_ui_value_to_string (GVariant *value)
{
  if (value == NULL)
    return g_strdup ("");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (value);

      return signet_ui_value_to_string (inner);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? _("on") : _("off"));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return g_strdup_printf ("%d", g_variant_get_int32 (value));
  return g_variant_print (value, FALSE);
}

/* Rough bands for a handheld next to a device: above -60 dBm the link is
 * as good as it gets, below -80 dBm connections start to fail and
 * segments to be resent. */
#define SIGNAL_STRONG_DBM (-60)
#define SIGNAL_GOOD_DBM (-70)
#define SIGNAL_WEAK_DBM (-80)

const char *
signet_ui_signal_label (gint rssi)
{
  if (rssi == G_MININT16)
    /* TRANSLATORS: a Bluetooth signal strength nobody has measured yet */
    return C_("signal", "Unknown");
  if (rssi >= SIGNAL_STRONG_DBM)
    return C_("signal", "Strong");
  if (rssi >= SIGNAL_GOOD_DBM)
    return C_("signal", "Good");
  if (rssi >= SIGNAL_WEAK_DBM)
    return C_("signal", "Fair");
  return C_("signal", "Weak");
}

const char *
signet_ui_signal_icon (gint rssi)
{
  if (rssi == G_MININT16)
    return "network-cellular-signal-none-symbolic";
  if (rssi >= SIGNAL_STRONG_DBM)
    return "network-cellular-signal-excellent-symbolic";
  if (rssi >= SIGNAL_GOOD_DBM)
    return "network-cellular-signal-good-symbolic";
  if (rssi >= SIGNAL_WEAK_DBM)
    return "network-cellular-signal-ok-symbolic";
  return "network-cellular-signal-weak-symbolic";
}

char *
signet_ui_format_dbm (gint rssi)
{
  g_autofree char *number = NULL;

  if (rssi == G_MININT16)
    return g_strdup ("");
  /* a typographic minus (U+2212), as the HIG wants for numbers */
  number = g_strdup_printf ("%s%d", rssi < 0 ? "−" : "", ABS (rssi));
  /* TRANSLATORS: a signal strength, "−67 dBm" */
  return g_strdup_printf (_("%s dBm"), number);
}

char *
signet_ui_format_signal (gint rssi)
{
  g_autofree char *dbm = NULL;

  if (rssi == G_MININT16)
    return g_strdup (signet_ui_signal_label (rssi));
  dbm = signet_ui_format_dbm (rssi);
  /* TRANSLATORS: a Bluetooth signal strength and its RSSI,
   * "Good (−67 dBm)" */
  return g_strdup_printf (_("%s (%s)"), signet_ui_signal_label (rssi), dbm);
}

void
signet_ui_set_accessible_label (GtkWidget  *widget,
                                const char *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

void
signet_ui_label_set_text (GtkLabel   *label,
                          const char *name,
                          const char *text)
{
  gtk_label_set_text (label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text,
                                  -1);
}

/* GTK 4.8 names a button whose label has a mnemonic twice over (its
 * label property with the underscore, and the labelled-by relation to the
 * same text): "_Commit Commit". Screen readers and the UI tests want
 * "Commit". Newer GTK computes the name properly; this is harmless there. */
void
signet_ui_fix_accessible_names (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget) && gtk_button_get_use_underline (GTK_BUTTON (widget)) &&
      gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    {
      const char *label = gtk_button_get_label (GTK_BUTTON (widget));
      GString *clean = g_string_new (NULL);

      for (const char *p = label; *p != '\0'; p++)
        {
          if (*p == '_' && p[1] == '_')
            p++;
          else if (*p == '_')
            continue;
          g_string_append_c (clean, *p);
        }
      gtk_accessible_reset_relation (GTK_ACCESSIBLE (widget),
                                     GTK_ACCESSIBLE_RELATION_LABELLED_BY);
      gtk_accessible_update_property (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      clean->str, -1);
      g_string_free (clean, TRUE);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    signet_ui_fix_accessible_names (child);
}
