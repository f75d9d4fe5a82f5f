#!/usr/bin/env bash
# The action's apply: queue the saved plan on the server (planning again from the
# same charges when QuickBooks changed since, if the charges are given), and show
# what happened in the job summary.
#
# Environment: CONFIG; OUT (a directory for applied.txt); RECONCILE_SERVER_URL and
# RECONCILE_TOKEN (a token of scope apply); PLAN (the saved plan); CHARGES (the
# charges it was made from, or empty); GitHub's GITHUB_STEP_SUMMARY.
set -uo pipefail

if [ -z "$RECONCILE_SERVER_URL" ] || [ -z "$PLAN" ]; then
  echo "::error::apply needs server-url and plan (the plan.json the plan command saved)."
  exit 1
fi
mkdir -p "$OUT"
arguments=(apply "$PLAN" --config "$CONFIG" --server "$RECONCILE_SERVER_URL" --yes)
if [ -n "$CHARGES" ]; then
  arguments+=(--replan-if-stale --charges "$CHARGES")
fi
reconcile "${arguments[@]}" 2>&1 | tee "$OUT/applied.txt"
code=${PIPESTATUS[0]}
{
  echo '### Applied'
  echo
  echo '```text'
  cat "$OUT/applied.txt"
  echo '```'
} >> "$GITHUB_STEP_SUMMARY"
exit "$code"
