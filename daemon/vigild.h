/*
 * vigild.h: the whole daemon, for main.c and the unit tests. Each layer
 * has its own header; a layer includes only the headers of the layers
 * below it (scripts/check-layers.sh checks it), never this one:
 *
 *   control/            the socket server (control.h) and the verbs (commands.h,
 *                       status.h, wait.h, ...)
 *   core/core.h         services, dependencies, spawn, reap, readiness, notify
 *   output/output.h     capture pipes, ring, log files, reading them back
 *   config/conf.h       configuration: types, loading, reload planning
 */
#ifndef VIGILD_H
#define VIGILD_H

#include "config/conf.h"
#include "output/output.h"
#include "core/core.h"
#include "control/control.h"
#include "control/commands.h"
#include "control/names.h"
#include "control/reload.h"
#include "control/status.h"
#include "control/wait.h"

#endif
