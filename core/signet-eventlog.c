/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stub: being written */
#include "signet-eventlog.h"
