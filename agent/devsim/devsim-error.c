/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "devsim-error.h"

G_DEFINE_QUARK (signet-devsim-error-quark, devsim_error)
