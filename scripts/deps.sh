#!/bin/sh
# Install what building and testing vigil needs on Debian 12 (run as root).
# clang with libclang-rt-dev (libFuzzer and the sanitizer runtimes, only a
# Recommends of clang) builds the fuzz target of make check; debhelper and
# lintian build and check the Debian package (scripts/check-deb.sh); tmux
# gives tests/integration/test_top.c a terminal to run `vigilctl top` in.
# python3-prometheus-client: test_metrics reads vigild's metrics with the
# Prometheus project's own parsers (tests/helpers/parse-metrics.py); the
# package build runs the unit tests only, so it is no Build-Depends.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkg-config \
	libev-dev libinih-dev libjansson-dev libcap-dev libseccomp-dev libcriterion-dev \
	clang libclang-rt-dev \
	libsystemd-dev \
	redis-server busybox systemd man-db tmux \
	python3-prometheus-client \
	debhelper lintian
