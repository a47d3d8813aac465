#!/bin/sh
# Sample job: what the stepcron-jobs image runs for hourly-cleanup.
set -eu
echo "cleanup: removing sessions and uploads older than the cutoff (input ${STEPCRON_INPUT})"
sleep 0.3
echo "cleanup: removed 42 sessions, 7 uploads"
