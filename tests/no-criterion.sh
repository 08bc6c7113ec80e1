#!/bin/sh
echo "Criterion is not installed: install the Debian package libcriterion-dev and re-run configure" >&2
exit 1
