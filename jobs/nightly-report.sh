#!/bin/sh
# Sample job: what the stepcron-jobs image runs for nightly-report. Reads its run from STEPCRON_* variables.
set -eu
echo "nightly-report: building report for ${STEPCRON_SCHEDULED_TIME} (attempt ${STEPCRON_ATTEMPT})"
echo "nightly-report: input ${STEPCRON_INPUT}"
if [ -z "${REPORT_BUCKET:-}" ]; then
  echo "nightly-report: REPORT_BUCKET is not set" >&2
  exit 2
fi
for step in query render upload; do
  echo "nightly-report: ${step}..."
  sleep 0.2
done
echo "nightly-report: done, s3://${REPORT_BUCKET}/$(echo "${STEPCRON_SCHEDULED_TIME}" | cut -c1-10).pdf"
