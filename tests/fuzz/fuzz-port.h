/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-port.h: stand-in crypto ports for the fuzz harnesses, so inputs
 * reach the decoders behind a signature check. Standard C only (the
 * harnesses also build under gcc with replay.c).
 *
 * Both ports' sha256 is not a hash: it reads every byte of the gather list
 * (so ASan sees any bad view) and folds them into the digest.
 */
#pragma once

#include "sp-crypto-port.h"

/* Every signature verifies. */
extern const sp_crypto_port fuzz_accept_port;

/* A signature verifies when the XOR of its bytes equals the digest's
 * first byte: both outcomes are reachable from fuzzer input. */
extern const sp_crypto_port fuzz_touch_port;
