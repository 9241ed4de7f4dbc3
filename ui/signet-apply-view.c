/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-apply-view.c: see signet-apply-view.h.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "signet-apply-view.h"
#include "signet-ui-util.h"
#include "signet-window.h"

/* As signetctl: a critical profile wants a code at most 5 minutes old;
 * ask a little before the service would refuse. */
#define STEP_UP_MAX_AGE (300 - 15)

typedef enum {
  STEP_AUTHORIZE,
  STEP_SEAL,
  STEP_TRANSFER,
  STEP_HEALTH,
  STEP_VERIFY,
  N_STEPS
} Step;

typedef enum {
  STEP_PENDING,
  STEP_ACTIVE,
  STEP_DONE,
  STEP_SKIPPED,
  STEP_FAILED,
} StepState;

typedef struct {
  AdwActionRow *row;
  GtkImage *icon;
  GtkSpinner *spinner;
  StepState state;
} StepRow;

typedef struct {
  SignetServiceProfileField *field;   /* borrowed from the profile */
  GtkWidget *row;
  GtkWidget *input;                   /* AdwEntryRow, GtkSpinButton, AdwComboRow, GtkSwitch */
} FieldInput;

struct _SignetApplyView
{
  GtkWidget parent_instance;

  /* template */
  GtkStack *stack;
  AdwStatusPage *error_status;
  AdwComboRow *profile_row;
  AdwPreferencesGroup *profile_group;
  AdwPreferencesGroup *fields_group;
  GtkLabel *form_error;
  GtkButton *review_button;
  AdwPreferencesGroup *diff_group;
  GtkButton *apply_button;
  GtkListBox *steps_list;
  GtkProgressBar *progress_bar;
  GtkButton *cancel_button;
  AdwPreferencesGroup *receipt_group;
  GtkButton *commit_button;
  GtkButton *rollback_button;
  AdwStatusPage *result_status;

  SignetSession *session;
  SignetDevice *device;
  GPtrArray *profiles;          /* (element-type SignetServiceProfile) */
  SignetServiceProfile *profile;   /* borrowed from profiles */
  GPtrArray *inputs;            /* (element-type FieldInput) */
  GPtrArray *field_rows;        /* rows added to fields_group */
  GPtrArray *diff_rows;
  GPtrArray *receipt_rows;
  GVariant *values;             /* what Apply sends, a{sv} */
  GCancellable *cancellable;
  gulong progress_id;
  StepRow steps[N_STEPS];
  gboolean running;
  gboolean staged;              /* a receipt of APPLY, no commit/rollback yet */
  guint step_ups;
};

G_DEFINE_FINAL_TYPE (SignetApplyView, signet_apply_view, GTK_TYPE_WIDGET)

enum {
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void run_apply (SignetApplyView *self);

static SignetWindow *
get_window (SignetApplyView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return SIGNET_IS_WINDOW (root) ? SIGNET_WINDOW (root) : NULL;
}

static void
toast (SignetApplyView *self,
       const char      *text)
{
  SignetWindow *window = get_window (self);

  if (window != NULL)
    signet_window_add_toast (window, text);
}

static void
clear_rows (AdwPreferencesGroup *group,
            GPtrArray           *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, g_ptr_array_index (rows, i));
  g_ptr_array_set_size (rows, 0);
}

static void
add_row (AdwPreferencesGroup *group,
         GPtrArray           *rows,
         GtkWidget           *row)
{
  adw_preferences_group_add (group, row);
  g_ptr_array_add (rows, row);
}

static GtkWidget *
info_row (const char *title,
          const char *value,
          gboolean    monospace)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *label = gtk_label_new (value);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_widget_set_hexpand (label, TRUE);
  if (monospace)
    gtk_widget_add_css_class (label, "fingerprint");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  value, -1);
  return row;
}

/* ---- steps -------------------------------------------------------------- */

static void
set_step (SignetApplyView *self,
          Step             step,
          StepState        state)
{
  StepRow *s = &self->steps[step];
  const char *icon = "radio-symbolic";
  const char *subtitle = NULL;

  if (s->state == state)
    return;
  s->state = state;
  switch (state)
    {
    case STEP_PENDING:
      icon = "radio-symbolic";
      break;
    case STEP_ACTIVE:
      icon = "radio-symbolic";
      subtitle = _("In progress…");
      break;
    case STEP_DONE:
      icon = "object-select-symbolic";
      subtitle = _("Done");
      break;
    case STEP_SKIPPED:
      icon = "radio-symbolic";
      subtitle = _("Not needed");
      break;
    case STEP_FAILED:
      icon = "dialog-error-symbolic";
      subtitle = _("Failed");
      break;
    default:
      break;
    }
  gtk_image_set_from_icon_name (s->icon, icon);
  adw_action_row_set_subtitle (s->row, subtitle != NULL ? subtitle : "");
  gtk_spinner_set_spinning (s->spinner, state == STEP_ACTIVE);
  gtk_widget_set_visible (GTK_WIDGET (s->spinner), state == STEP_ACTIVE);
  gtk_widget_remove_css_class (GTK_WIDGET (s->row), "done");
  gtk_widget_remove_css_class (GTK_WIDGET (s->row), "failed");
  if (state == STEP_DONE)
    gtk_widget_add_css_class (GTK_WIDGET (s->row), "done");
  else if (state == STEP_FAILED)
    gtk_widget_add_css_class (GTK_WIDGET (s->row), "failed");
}

static void
fail_active_steps (SignetApplyView *self)
{
  for (guint i = 0; i < N_STEPS; i++)
    if (self->steps[i].state == STEP_ACTIVE)
      set_step (self, i, STEP_FAILED);
}

static gboolean
profile_has_secrets (SignetServiceProfile *profile)
{
  for (guint i = 0; profile != NULL && i < profile->fields->len; i++)
    {
      SignetServiceProfileField *f = g_ptr_array_index (profile->fields, i);

      if (f->secret)
        return TRUE;
    }
  return FALSE;
}

static void
progress_cb (SignetDevice    *device,
             const char      *step,
             double           fraction,
             SignetApplyView *self)
{
  if (!self->running)
    return;
  if (g_strcmp0 (step, "authorize") == 0)
    {
      set_step (self, STEP_AUTHORIZE, fraction >= 1.0 ? STEP_DONE : STEP_ACTIVE);
      return;
    }
  if (g_strcmp0 (step, "apply") != 0)
    return;
  /* the engine's apply: 0 start, 0.1 sealing at the service, 0.3 the
   * command signed and sent, 0.5 sent (the device stages and runs its
   * health check), 1 the receipt verified (docs/engine.md) */
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
  if (self->steps[STEP_AUTHORIZE].state != STEP_DONE)
    set_step (self, STEP_AUTHORIZE, STEP_DONE);
  if (fraction < 0.1)
    {
      if (!profile_has_secrets (self->profile))
        set_step (self, STEP_SEAL, STEP_SKIPPED);
    }
  else if (fraction < 0.3)
    set_step (self, STEP_SEAL, STEP_ACTIVE);
  else if (fraction < 0.5)
    {
      if (self->steps[STEP_SEAL].state != STEP_SKIPPED)
        set_step (self, STEP_SEAL, STEP_DONE);
      set_step (self, STEP_TRANSFER, STEP_ACTIVE);
    }
  else if (fraction < 1.0)
    {
      set_step (self, STEP_TRANSFER, STEP_DONE);
      set_step (self, STEP_HEALTH, STEP_ACTIVE);
    }
  else
    {
      set_step (self, STEP_TRANSFER, STEP_DONE);
      set_step (self, STEP_HEALTH, STEP_DONE);
      set_step (self, STEP_VERIFY, STEP_DONE);
    }
}

/* ---- the form ----------------------------------------------------------- */

static GVariant *
current_value (SignetApplyView *self,
               const char      *key)
{
  GVariant *config = self->device != NULL ? signet_device_get_config (self->device) : NULL;

  if (config == NULL)
    return NULL;
  return g_variant_lookup_value (config, key, NULL);
}

/* The value an input holds now, as the engine takes it (floating), or NULL
 * for an empty string (not set). */
static GVariant *
input_value (FieldInput *in)
{
  const char *type = in->field->type;

  if (g_strcmp0 (type, "int") == 0)
    return g_variant_new_int64 ((gint64) gtk_spin_button_get_value (GTK_SPIN_BUTTON (in->input)));
  if (g_strcmp0 (type, "bool") == 0)
    return g_variant_new_boolean (gtk_switch_get_active (GTK_SWITCH (in->input)));
  if (g_strcmp0 (type, "enum") == 0)
    {
      guint i = adw_combo_row_get_selected (ADW_COMBO_ROW (in->input));

      if (in->field->values == NULL || i >= g_strv_length (in->field->values))
        return NULL;
      return g_variant_new_string (in->field->values[i]);
    }
  if (*gtk_editable_get_text (GTK_EDITABLE (in->input)) == '\0')
    return NULL;
  return g_variant_new_string (gtk_editable_get_text (GTK_EDITABLE (in->input)));
}

static gboolean
values_equal (GVariant *a,
              GVariant *b)
{
  g_autofree char *sa = NULL;
  g_autofree char *sb = NULL;

  if (a == NULL || b == NULL)
    return a == b;
  /* the device may answer an int as another integer type: compare text */
  sa = signet_ui_value_to_string (a);
  sb = signet_ui_value_to_string (b);
  return g_strcmp0 (sa, sb) == 0;
}

/* Check a string as you type: its length in bytes, as the engine does. */
static gboolean
check_string (FieldInput  *in,
              char       **out_message)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (in->input));
  gint64 n = (gint64) strlen (text);
  SignetServiceProfileField *f = in->field;

  if (n == 0)
    return TRUE;    /* not set: left as it is */
  if ((f->has_min && n < f->min) || (f->has_max && n > f->max))
    {
      if (f->has_min && f->has_max)
        *out_message = g_strdup_printf (_("%s must have %lld to %lld characters"),
                                        f->key, (long long) f->min,
                                        (long long) f->max);
      else if (f->has_min)
        *out_message = g_strdup_printf (_("%s must have at least %lld characters"),
                                        f->key, (long long) f->min);
      else
        *out_message = g_strdup_printf (_("%s must have at most %lld characters"),
                                        f->key, (long long) f->max);
      return FALSE;
    }
  return TRUE;
}

/* The values that differ from the device's, into self->values; FALSE
 * with a message when one is not valid. */
static gboolean
collect_values (SignetApplyView  *self,
                char            **out_message)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) values = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;
  guint n = 0;

  for (guint i = 0; i < self->inputs->len; i++)
    {
      FieldInput *in = g_ptr_array_index (self->inputs, i);
      g_autoptr(GVariant) now = NULL;
      g_autoptr(GVariant) value = NULL;

      if (in->field->secret)
        continue;
      if (g_strcmp0 (in->field->type, "string") == 0)
        {
          g_autofree char *msg = NULL;

          if (!check_string (in, &msg))
            {
              gtk_widget_add_css_class (in->row, "error");
              if (ok && out_message != NULL)
                *out_message = g_steal_pointer (&msg);
              ok = FALSE;
              continue;
            }
          gtk_widget_remove_css_class (in->row, "error");
        }
      value = input_value (in);
      if (value == NULL)
        continue;
      g_variant_ref_sink (value);
      now = current_value (self, in->field->key);
      if (values_equal (now, value))
        continue;
      g_variant_builder_add (&b, "{sv}", in->field->key, value);
      n++;
    }
  values = g_variant_ref_sink (g_variant_builder_end (&b));
  if (!ok)
    return FALSE;
  if (n == 0 && !profile_has_secrets (self->profile))
    {
      if (out_message != NULL)
        *out_message = g_strdup (_("Nothing to change: the device already has these values"));
      return FALSE;
    }
  if (self->device != NULL && signet_device_get_session (self->device) != NULL &&
      !signet_device_session_validate (signet_device_get_session (self->device), self->profile,
                                       values, &error))
    {
      if (out_message != NULL)
        *out_message = g_strdup (error->message);
      return FALSE;
    }
  g_clear_pointer (&self->values, g_variant_unref);
  self->values = g_steal_pointer (&values);
  return TRUE;
}

static void
validate_form (SignetApplyView *self)
{
  g_autofree char *message = NULL;
  gboolean ok = collect_values (self, &message);

  gtk_widget_set_sensitive (GTK_WIDGET (self->review_button), ok);
  gtk_label_set_text (self->form_error, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->form_error), message != NULL);
}

static char *
range_text (SignetServiceProfileField *f,
            gboolean                   is_length)
{
  if (f->has_min && f->has_max)
    return is_length ? g_strdup_printf (_("%lld to %lld characters"),
                                        (long long) f->min, (long long) f->max)
                     : g_strdup_printf (_("From %lld to %lld"),
                                        (long long) f->min, (long long) f->max);
  if (f->has_min)
    return is_length ? g_strdup_printf (_("At least %lld characters"), (long long) f->min)
                     : g_strdup_printf (_("At least %lld"), (long long) f->min);
  if (f->has_max)
    return is_length ? g_strdup_printf (_("At most %lld characters"), (long long) f->max)
                     : g_strdup_printf (_("At most %lld"), (long long) f->max);
  return NULL;
}

static void
build_form (SignetApplyView *self)
{
  clear_rows (self->fields_group, self->field_rows);
  g_ptr_array_set_size (self->inputs, 0);
  if (self->profile == NULL)
    return;
  adw_preferences_group_set_description (self->fields_group, self->profile->description);
  for (guint i = 0; i < self->profile->fields->len; i++)
    {
      SignetServiceProfileField *f = g_ptr_array_index (self->profile->fields, i);
      g_autoptr(GVariant) now = current_value (self, f->key);
      FieldInput *in = g_new0 (FieldInput, 1);
      g_autofree char *range = NULL;

      in->field = f;
      if (f->secret)
        {
          GtkWidget *icon = gtk_image_new_from_icon_name ("channel-secure-symbolic");

          in->row = adw_action_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (in->row), f->key);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (in->row),
                                       _("Sealed by the service — not visible"));
          adw_action_row_add_prefix (ADW_ACTION_ROW (in->row), icon);
        }
      else if (g_strcmp0 (f->type, "int") == 0)
        {
          double min = f->has_min ? (double) f->min : -1e9;
          double max = f->has_max ? (double) f->max : 1e9;

          in->row = adw_action_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (in->row), f->key);
          range = range_text (f, FALSE);
          if (range != NULL)
            adw_action_row_set_subtitle (ADW_ACTION_ROW (in->row), range);
          in->input = gtk_spin_button_new_with_range (min, max, 1);
          gtk_widget_set_valign (in->input, GTK_ALIGN_CENTER);
          gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (in->input), TRUE);
          if (now != NULL)
            {
              g_autofree char *s = signet_ui_value_to_string (now);

              gtk_spin_button_set_value (GTK_SPIN_BUTTON (in->input), g_ascii_strtod (s, NULL));
            }
          else
            gtk_spin_button_set_value (GTK_SPIN_BUTTON (in->input), MAX (min, 0));
          signet_ui_set_accessible_label (in->input, f->key);
          adw_action_row_add_suffix (ADW_ACTION_ROW (in->row), in->input);
          adw_action_row_set_activatable_widget (ADW_ACTION_ROW (in->row), in->input);
          g_signal_connect_swapped (in->input, "value-changed", G_CALLBACK (validate_form), self);
        }
      else if (g_strcmp0 (f->type, "bool") == 0)
        {
          in->row = adw_action_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (in->row), f->key);
          in->input = gtk_switch_new ();
          gtk_widget_set_valign (in->input, GTK_ALIGN_CENTER);
          if (now != NULL && g_variant_is_of_type (now, G_VARIANT_TYPE_BOOLEAN))
            gtk_switch_set_active (GTK_SWITCH (in->input), g_variant_get_boolean (now));
          signet_ui_set_accessible_label (in->input, f->key);
          adw_action_row_add_suffix (ADW_ACTION_ROW (in->row), in->input);
          adw_action_row_set_activatable_widget (ADW_ACTION_ROW (in->row), in->input);
          g_signal_connect_swapped (in->input, "notify::active", G_CALLBACK (validate_form), self);
        }
      else if (g_strcmp0 (f->type, "enum") == 0)
        {
          GtkStringList *list = gtk_string_list_new ((const char * const *) f->values);

          in->row = in->input = adw_combo_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (in->row), f->key);
          adw_combo_row_set_model (ADW_COMBO_ROW (in->row), G_LIST_MODEL (list));
          g_object_unref (list);
          if (now != NULL && g_variant_is_of_type (now, G_VARIANT_TYPE_STRING) && f->values)
            for (guint j = 0; f->values[j] != NULL; j++)
              if (g_strcmp0 (f->values[j], g_variant_get_string (now, NULL)) == 0)
                adw_combo_row_set_selected (ADW_COMBO_ROW (in->row), j);
          g_signal_connect_swapped (in->row, "notify::selected", G_CALLBACK (validate_form), self);
        }
      else
        {
          in->row = in->input = adw_entry_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (in->row), f->key);
          if (now != NULL && g_variant_is_of_type (now, G_VARIANT_TYPE_STRING))
            gtk_editable_set_text (GTK_EDITABLE (in->row), g_variant_get_string (now, NULL));
          range = range_text (f, TRUE);
          if (range != NULL)
            gtk_widget_set_tooltip_text (in->row, range);
          if (range != NULL)
            gtk_accessible_update_property (GTK_ACCESSIBLE (in->row),
                                            GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, range, -1);
          g_signal_connect_swapped (in->row, "changed", G_CALLBACK (validate_form), self);
        }
      add_row (self->fields_group, self->field_rows, in->row);
      g_ptr_array_add (self->inputs, in);
    }
  validate_form (self);
}

static void
profile_selected_cb (SignetApplyView *self)
{
  guint i = adw_combo_row_get_selected (self->profile_row);

  self->profile = self->profiles != NULL && i < self->profiles->len ?
                  g_ptr_array_index (self->profiles, i) : NULL;
  if (self->profile != NULL)
    {
      g_autofree char *subtitle = NULL;

      /* TRANSLATORS: profile class and version, "config, version 3" */
      subtitle = g_strdup_printf (_("%s, version %lld%s"), self->profile->klass,
                                  (long long) self->profile->version,
                                  self->profile->critical ? _(", critical: needs a fresh code")
                                                          : "");
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->profile_row), subtitle);
    }
  build_form (self);
}

static void
profiles_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SignetApplyView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  profiles = signet_service_client_profiles_finish (SIGNET_SERVICE_CLIENT (source), result,
                                                    &error);
  if (profiles == NULL)
    {
      g_autofree char *text = signet_ui_describe_error (error);

      if (g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED))
        return;
      adw_status_page_set_title (self->error_status, _("No Profiles"));
      adw_status_page_set_description (self->error_status, text);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  /* firmware profiles need an image: signetctl does them for now */
  for (guint i = 0; i < profiles->len;)
    {
      SignetServiceProfile *p = g_ptr_array_index (profiles, i);

      if (g_strcmp0 (p->klass, "firmware") == 0)
        g_ptr_array_remove_index (profiles, i);
      else
        i++;
    }
  if (profiles->len == 0)
    {
      const SignetDeviceInfo *info = signet_device_get_info (self->device);
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("The service has no profile for the model %s"),
                              info != NULL ? info->model : "?");
      adw_status_page_set_title (self->error_status, _("No Profiles"));
      adw_status_page_set_description (self->error_status, text);
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  g_clear_pointer (&self->profiles, g_ptr_array_unref);
  self->profiles = g_steal_pointer (&profiles);
  for (guint i = 0; i < self->profiles->len; i++)
    {
      SignetServiceProfile *p = g_ptr_array_index (self->profiles, i);

      gtk_string_list_append (names, p->id);
    }
  self->profile = NULL;
  adw_combo_row_set_model (self->profile_row, G_LIST_MODEL (names));
  adw_combo_row_set_selected (self->profile_row, 0);
  profile_selected_cb (self);
  gtk_stack_set_visible_child_name (self->stack, "form");
}

/* ---- review ------------------------------------------------------------- */

static void
build_diff (SignetApplyView *self)
{
  g_autofree char *description = NULL;

  clear_rows (self->diff_group, self->diff_rows);
  description = g_strdup_printf (_("Profile %s on %s"), self->profile->id,
                                 signet_device_get_subtitle (self->device));
  adw_preferences_group_set_description (self->diff_group, description);
  for (guint i = 0; i < self->inputs->len; i++)
    {
      FieldInput *in = g_ptr_array_index (self->inputs, i);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *a11y = NULL;

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), in->field->key);
      if (in->field->secret)
        {
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                       _("New value sealed by the service — not visible"));
          adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                                     gtk_image_new_from_icon_name ("channel-secure-symbolic"));
        }
      else
        {
          g_autoptr(GVariant) now = current_value (self, in->field->key);
          g_autoptr(GVariant) next = g_variant_lookup_value (self->values, in->field->key, NULL);
          g_autofree char *old_text = NULL;
          g_autofree char *new_text = NULL;
          GtkWidget *box, *old_label, *arrow, *new_label;

          if (next == NULL)
            {
              g_object_ref_sink (row);
              g_object_unref (row);
              continue;
            }
          old_text = now != NULL ? signet_ui_value_to_string (now) : g_strdup (_("(not set)"));
          new_text = signet_ui_value_to_string (next);
          box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
          old_label = gtk_label_new (old_text);
          gtk_widget_add_css_class (old_label, "diff-old");
          gtk_label_set_ellipsize (GTK_LABEL (old_label), PANGO_ELLIPSIZE_END);
          arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
          new_label = gtk_label_new (new_text);
          gtk_widget_add_css_class (new_label, "diff-new");
          gtk_label_set_ellipsize (GTK_LABEL (new_label), PANGO_ELLIPSIZE_END);
          gtk_box_append (GTK_BOX (box), old_label);
          gtk_box_append (GTK_BOX (box), arrow);
          gtk_box_append (GTK_BOX (box), new_label);
          gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), box);
          /* TRANSLATORS: a change of a setting, "6 → 11" */
          a11y = g_strdup_printf (_("%s → %s"), old_text, new_text);
          gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                          GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, a11y, -1);
        }
      add_row (self->diff_group, self->diff_rows, row);
    }
}

static void
review_clicked_cb (SignetApplyView *self)
{
  g_autofree char *message = NULL;

  if (!collect_values (self, &message))
    {
      validate_form (self);
      return;
    }
  build_diff (self);
  gtk_stack_set_visible_child_name (self->stack, "review");
  gtk_widget_grab_focus (GTK_WIDGET (self->apply_button));
}

static void
back_to_form_clicked_cb (SignetApplyView *self)
{
  gtk_stack_set_visible_child_name (self->stack, "form");
}

/* ---- apply -------------------------------------------------------------- */

static void
show_failure (SignetApplyView *self,
              const GError    *error)
{
  g_autofree char *text = signet_ui_describe_error (error);

  self->running = FALSE;
  fail_active_steps (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  adw_status_page_set_title (self->error_status, _("The Change Failed"));
  adw_status_page_set_description (self->error_status, text);
  gtk_stack_set_visible_child_name (self->stack, "error");
}

static void
build_receipt (SignetApplyView           *self,
               const SignetDeviceReceipt *r)
{
  g_autofree char *committed = g_strdup_printf ("%" G_GUINT64_FORMAT, r->committed_version);
  g_autofree char *pending = g_strdup_printf ("%" G_GUINT64_FORMAT, r->pending_version);
  g_autofree char *seq = g_strdup_printf ("%" G_GUINT64_FORMAT, r->seq);
  g_autofree char *config = signet_ui_hex (r->config_digest);
  g_autofree char *command = signet_ui_hex (r->command_digest);

  clear_rows (self->receipt_group, self->receipt_rows);
  add_row (self->receipt_group, self->receipt_rows,
           info_row (_("Committed version"), committed, FALSE));
  add_row (self->receipt_group, self->receipt_rows,
           info_row (_("Pending version"), pending, FALSE));
  add_row (self->receipt_group, self->receipt_rows, info_row (_("Command number"), seq, FALSE));
  add_row (self->receipt_group, self->receipt_rows,
           info_row (_("Running configuration digest (SHA-256)"), config, TRUE));
  add_row (self->receipt_group, self->receipt_rows,
           info_row (_("Signed command digest (SHA-256)"), command, TRUE));
}

static void
applied_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SignetApplyView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) receipt = NULL;

  receipt = signet_device_session_apply_finish (SIGNET_DEVICE_SESSION (source), result, &error);
  if (receipt == NULL)
    {
      if (signet_ui_error_is_step_up (error) && self->step_ups < 3)
        {
          /* run_apply asks for a code, authorizes again and retries */
          self->step_ups++;
          set_step (self, STEP_SEAL, STEP_PENDING);
          set_step (self, STEP_TRANSFER, STEP_PENDING);
          set_step (self, STEP_AUTHORIZE, STEP_PENDING);
          run_apply (self);
          return;
        }
      if (g_error_matches (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_CANCELLED) ||
          g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED) ||
          g_error_matches (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CANCELLED))
        {
          self->running = FALSE;
          toast (self, _("Cancelled: nothing was staged"));
          gtk_stack_set_visible_child_name (self->stack, "review");
          return;
        }
      show_failure (self, error);
      return;
    }
  self->running = FALSE;
  self->staged = TRUE;
  for (guint i = 0; i < N_STEPS; i++)
    if (self->steps[i].state != STEP_SKIPPED)
      set_step (self, i, STEP_DONE);
  gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
  build_receipt (self, receipt);
  gtk_widget_set_sensitive (GTK_WIDGET (self->commit_button), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->rollback_button), TRUE);
  gtk_stack_set_visible_child_name (self->stack, "receipt");
  gtk_widget_grab_focus (GTK_WIDGET (self->commit_button));
}

static void
authorized_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SignetApplyView) self = user_data;
  g_autoptr(GError) error = NULL;
  SignetDeviceSession *ds;

  if (!signet_device_connect_finish (SIGNET_DEVICE (source), result, &error))
    {
      show_failure (self, error);
      return;
    }
  set_step (self, STEP_AUTHORIZE, STEP_DONE);
  ds = signet_device_get_session (self->device);
  if (g_cancellable_is_cancelled (self->cancellable) || ds == NULL)
    {
      self->running = FALSE;
      gtk_stack_set_visible_child_name (self->stack, "review");
      return;
    }
  signet_device_session_apply_async (ds, self->profile, self->values, self->cancellable,
                                     applied_cb, g_object_ref (self));
}

static void
authorize_and_apply (SignetApplyView *self)
{
  set_step (self, STEP_AUTHORIZE, STEP_ACTIVE);
  /* connect does AUTHORIZE again whenever the token changed (step-up,
   * refresh); nothing else is repeated */
  signet_device_connect_async (self->device, self->session, self->cancellable, authorized_cb,
                               g_object_ref (self));
}

static void
stepped_up_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SignetApplyView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_window_step_up_finish (SIGNET_WINDOW (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->running = FALSE;
          toast (self, _("No fresh code: nothing was applied"));
          gtk_stack_set_visible_child_name (self->stack, "review");
          return;
        }
      show_failure (self, error);
      return;
    }
  toast (self, _("Code accepted"));
  authorize_and_apply (self);
}

static gboolean
needs_step_up (SignetApplyView *self)
{
  SignetServiceClient *client = signet_session_get_client (self->session);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC + signet_service_client_get_clock_offset (client);

  if (self->step_ups > 0)
    return TRUE;   /* the service or the device asked for it */
  return self->profile->critical &&
         now - signet_session_get_auth_time (self->session) > STEP_UP_MAX_AGE;
}

static void
run_apply (SignetApplyView *self)
{
  SignetWindow *window = get_window (self);

  self->running = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), TRUE);
  gtk_stack_set_visible_child_name (self->stack, "progress");
  if (needs_step_up (self) && window != NULL)
    {
      g_autofree char *reason = NULL;

      reason = g_strdup_printf (_("The profile %s is critical: the service needs a code entered "
                                  "in the last few minutes."), self->profile->id);
      signet_window_step_up_async (window, reason, self->cancellable, stepped_up_cb,
                                   g_object_ref (self));
      return;
    }
  authorize_and_apply (self);
}

static void
apply_clicked_cb (SignetApplyView *self)
{
  if (self->running || self->values == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->step_ups = 0;
  for (guint i = 0; i < N_STEPS; i++)
    set_step (self, i, STEP_PENDING);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  run_apply (self);
}

static void
cancel_clicked_cb (SignetApplyView *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
  g_cancellable_cancel (self->cancellable);
}

/* ---- commit and rollback ------------------------------------------------ */

static void
finished_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SignetApplyView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) receipt = NULL;
  gboolean commit = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (self), "signet-commit"));
  g_autofree char *digest = NULL;
  g_autofree char *description = NULL;

  if (commit)
    receipt = signet_device_session_commit_finish (SIGNET_DEVICE_SESSION (source), result,
                                                   &error);
  else
    receipt = signet_device_session_rollback_finish (SIGNET_DEVICE_SESSION (source), result,
                                                     &error);
  self->running = FALSE;
  if (receipt == NULL)
    {
      g_autofree char *text = signet_ui_describe_error (error);

      gtk_widget_set_sensitive (GTK_WIDGET (self->commit_button), TRUE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->rollback_button), TRUE);
      toast (self, text);
      return;
    }
  self->staged = FALSE;
  digest = signet_ui_hex (receipt->config_digest);
  description = g_strdup_printf (_("The device runs configuration version %llu (SHA-256 %.16s…). "
                                   "Its signed receipt is in the session log."),
                                 (unsigned long long) receipt->committed_version, digest);
  adw_status_page_set_title (self->result_status, commit ? _("Change Committed")
                                                         : _("Change Rolled Back"));
  adw_status_page_set_icon_name (self->result_status,
                                 commit ? "object-select-symbolic" : "edit-undo-symbolic");
  adw_status_page_set_description (self->result_status, description);
  gtk_stack_set_visible_child_name (self->stack, "result");
  gtk_widget_grab_focus (GTK_WIDGET (self->stack));
}

static void
finish_change (SignetApplyView *self,
               gboolean         commit)
{
  SignetDeviceSession *ds = signet_device_get_session (self->device);

  if (ds == NULL || self->running)
    return;
  self->running = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->commit_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->rollback_button), FALSE);
  g_object_set_data (G_OBJECT (self), "signet-commit", GINT_TO_POINTER (commit));
  if (commit)
    signet_device_session_commit_async (ds, NULL, finished_cb, g_object_ref (self));
  else
    signet_device_session_rollback_async (ds, NULL, finished_cb, g_object_ref (self));
}

static void
commit_clicked_cb (SignetApplyView *self)
{
  finish_change (self, TRUE);
}

static void
rollback_clicked_cb (SignetApplyView *self)
{
  finish_change (self, FALSE);
}

static void
finish_clicked_cb (SignetApplyView *self)
{
  g_cancellable_cancel (self->cancellable);
  self->running = FALSE;
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

/* ---- GObject ------------------------------------------------------------ */

static void
field_input_free (gpointer data)
{
  g_free (data);
}

static void
set_device (SignetApplyView *self,
            SignetDevice    *device)
{
  if (self->device != NULL)
    g_clear_signal_handler (&self->progress_id, self->device);
  g_set_object (&self->device, device);
  if (device != NULL)
    self->progress_id = g_signal_connect (device, "progress", G_CALLBACK (progress_cb), self);
}

static void
signet_apply_view_dispose (GObject *object)
{
  SignetApplyView *self = SIGNET_APPLY_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  set_device (self, NULL);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_APPLY_VIEW);
  G_OBJECT_CLASS (signet_apply_view_parent_class)->dispose (object);
}

static void
signet_apply_view_finalize (GObject *object)
{
  SignetApplyView *self = SIGNET_APPLY_VIEW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->profiles, g_ptr_array_unref);
  g_clear_pointer (&self->inputs, g_ptr_array_unref);
  g_clear_pointer (&self->field_rows, g_ptr_array_unref);
  g_clear_pointer (&self->diff_rows, g_ptr_array_unref);
  g_clear_pointer (&self->receipt_rows, g_ptr_array_unref);
  g_clear_pointer (&self->values, g_variant_unref);
  G_OBJECT_CLASS (signet_apply_view_parent_class)->finalize (object);
}

static void
signet_apply_view_class_init (SignetApplyViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_apply_view_dispose;
  object_class->finalize = signet_apply_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-apply-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, stack);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, error_status);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, profile_row);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, profile_group);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, fields_group);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, form_error);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, review_button);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, diff_group);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, apply_button);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, steps_list);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, receipt_group);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, commit_button);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, rollback_button);
  gtk_widget_class_bind_template_child (widget_class, SignetApplyView, result_status);
  gtk_widget_class_bind_template_callback (widget_class, profile_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, review_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, back_to_form_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, apply_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, commit_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, rollback_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, finish_clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);
}

static void
signet_apply_view_init (SignetApplyView *self)
{
  const char *titles[N_STEPS] = {
    N_("Authorize the session on the device"),
    N_("Seal secrets at the service"),
    N_("Transfer the signed command"),
    N_("Stage and health check on the device"),
    N_("Verify the device’s signed receipt"),
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->inputs = g_ptr_array_new_with_free_func (field_input_free);
  self->field_rows = g_ptr_array_new ();
  self->diff_rows = g_ptr_array_new ();
  self->receipt_rows = g_ptr_array_new ();
  adw_combo_row_set_expression (self->profile_row,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));
  for (guint i = 0; i < N_STEPS; i++)
    {
      StepRow *s = &self->steps[i];

      s->row = ADW_ACTION_ROW (adw_action_row_new ());
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (s->row), _(titles[i]));
      s->icon = GTK_IMAGE (gtk_image_new_from_icon_name ("radio-symbolic"));
      gtk_widget_add_css_class (GTK_WIDGET (s->icon), "step-icon");
      s->spinner = GTK_SPINNER (gtk_spinner_new ());
      gtk_widget_set_visible (GTK_WIDGET (s->spinner), FALSE);
      adw_action_row_add_prefix (s->row, GTK_WIDGET (s->icon));
      adw_action_row_add_suffix (s->row, GTK_WIDGET (s->spinner));
      gtk_widget_add_css_class (GTK_WIDGET (s->row), "step-row");
      gtk_list_box_append (self->steps_list, GTK_WIDGET (s->row));
      s->state = STEP_PENDING;
    }
}

void
signet_apply_view_start (SignetApplyView *self,
                         SignetSession   *session,
                         SignetDevice    *device)
{
  const SignetDeviceInfo *info;
  SignetServiceSession *ss;

  g_return_if_fail (SIGNET_IS_APPLY_VIEW (self));
  g_return_if_fail (SIGNET_IS_SESSION (session));
  g_return_if_fail (SIGNET_IS_DEVICE (device));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_set_object (&self->session, session);
  set_device (self, device);
  self->running = FALSE;
  self->staged = FALSE;
  self->profile = NULL;
  g_clear_pointer (&self->profiles, g_ptr_array_unref);
  g_clear_pointer (&self->values, g_variant_unref);
  g_ptr_array_set_size (self->inputs, 0);
  clear_rows (self->fields_group, self->field_rows);
  gtk_stack_set_visible_child_name (self->stack, "loading");

  info = signet_device_get_info (device);
  ss = signet_session_get_service_session (session);
  if (info == NULL || ss == NULL)
    {
      adw_status_page_set_title (self->error_status, _("Not Connected"));
      adw_status_page_set_description (self->error_status,
                                       _("Connect to the device and sign in first"));
      gtk_stack_set_visible_child_name (self->stack, "error");
      return;
    }
  signet_service_client_profiles_async (signet_session_get_client (session), ss, info->model,
                                        self->cancellable, profiles_cb, g_object_ref (self));
}

gboolean
signet_apply_view_is_busy (SignetApplyView *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLY_VIEW (self), FALSE);

  return self->running || self->staged;
}
