/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stub: being written */
#ifndef SP_REVOCATION_H
#define SP_REVOCATION_H
#endif
