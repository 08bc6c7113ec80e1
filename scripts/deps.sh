#!/bin/sh
# Install what building and testing vigil needs on Debian 12 (run as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
	build-essential autoconf automake pkg-config \
	libev-dev libinih-dev libjansson-dev libcriterion-dev \
	redis-server systemd
