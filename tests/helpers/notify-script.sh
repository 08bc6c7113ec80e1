#!/bin/sh
# notify-script.sh PIDFILE STOPFILE: a service in shell that speaks the
# sd_notify protocol through systemd-notify. It forks its worker and names
# it MAINPID, says STATUS= and READY=1, then feeds the watchdog every
# 100 ms until STOPFILE exists, and leaves the worker to starve it.
set -eu
pidfile=$1
stopfile=$2
sleep 3600 &
worker=$!
echo "$worker" >"$pidfile.tmp"
mv "$pidfile.tmp" "$pidfile"
systemd-notify --pid="$worker" --status="worker $worker up" --ready
while [ ! -e "$stopfile" ]; do
	systemd-notify WATCHDOG=1
	sleep 0.1
done
