/*
 * state.c: the daemon's one struct vigild (loop, config, the set of
 * services), defined here, at the bottom of the core, so that every part
 * of it may read the loop without depending on the part that fills it in
 * (supervisor.c and main.c).
 */
#include "config.h"
#include "core.h"

struct vigild vigild;
