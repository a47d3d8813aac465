#!/bin/sh
# Sample job: what the stepcron-jobs image runs for each tenant of tenant-sync. STEPCRON_ITEM is the tenant (JSON).
set -eu
tenant=$(echo "${STEPCRON_ITEM}" | tr -d '"')
echo "syncing ${tenant} (attempt ${STEPCRON_ATTEMPT})"
sleep 0.2
# The sample's one flaky tenant: its CRM times out on the first try, as real ones do.
if [ "${tenant}" = "initech" ] && [ "${STEPCRON_ATTEMPT}" = "0" ]; then
  echo "crm.initech.example: connection timed out" >&2
  exit 1
fi
echo "synced ${tenant}: 17 records"
