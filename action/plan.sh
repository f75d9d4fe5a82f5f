#!/usr/bin/env bash
# The action's plan: validate the configuration, fetch the charges (or copy the
# given file), plan against the server's latest snapshot, and write the comment
# that the pull request and the job summary show. Every stage runs as far as it
# can and says how it went in the step's outputs; the action fails afterwards,
# once the comment is posted, so that a refused plan is still shown.
#
# Environment: CONFIG; OUT (the directory for validate.txt, charges.json,
# plan.json, plan.md and comment.md); RECONCILE_SERVER_URL and RECONCILE_TOKEN
# (no URL: validate only); CHARGES (a charges file instead of fetching); HEAD_SHA
# and RUN_URL (the comment's last line); GitHub's GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY.
set -uo pipefail

mkdir -p "$OUT"
: > "$OUT/stderr.txt"
validate=failure
charges=skipped
plan=skipped
changes=false

if reconcile validate --config "$CONFIG" > "$OUT/validate.txt" 2>&1; then
  validate=success
fi
cat "$OUT/validate.txt"

if [ "$validate" = success ] && [ -n "$RECONCILE_SERVER_URL" ]; then
  if [ -n "$CHARGES" ]; then
    if cp -- "$CHARGES" "$OUT/charges.json" 2> "$OUT/stderr.txt"; then charges=success; else charges=failure; fi
  elif reconcile fetch-charges --config "$CONFIG" --out "$OUT/charges.json" 2> "$OUT/stderr.txt"; then
    charges=success
  else
    charges=failure
  fi
  cat "$OUT/stderr.txt" >&2
fi

if [ "$charges" = success ]; then
  # Exit 0: nothing to change; 2: changes; anything else (errors in the plan, a
  # refused plan) is a failure, and the plan, when there is one, is still shown.
  reconcile plan --config "$CONFIG" --server "$RECONCILE_SERVER_URL" \
    --charges "$OUT/charges.json" --format markdown --out "$OUT/plan.json" \
    --detailed-exitcode > "$OUT/plan.md" 2> "$OUT/stderr.txt"
  code=$?
  cat "$OUT/stderr.txt" >&2
  case "$code" in
    0) plan=success ;;
    2) plan=success changes=true ;;
    *) plan=failure ;;
  esac
fi

{
  if [ -s "$OUT/plan.md" ]; then
    cat "$OUT/plan.md"
  else
    echo '<!-- reconciler-plan -->'
    echo '### Reconciler plan'
  fi
  echo
  if [ "$validate" = failure ]; then
    echo '> [!CAUTION]'
    echo '> **The configuration is not valid: nothing was planned.**'
    echo
    echo '```text'
    cat "$OUT/validate.txt"
    echo '```'
  elif [ "$charges" = failure ] || [ "$plan" = failure ]; then
    echo '> [!CAUTION]'
    echo '> **The plan was refused or could not be made.**'
    echo
    echo '```text'
    cat "$OUT/stderr.txt"
    echo '```'
  elif [ -z "$RECONCILE_SERVER_URL" ]; then
    echo 'The configuration is valid. No plan: RECONCILE_SERVER_URL is not set.'
  fi
  echo
  echo "<sub>Commit ${HEAD_SHA:0:12} · [workflow run](${RUN_URL})</sub>"
} > "$OUT/comment.md"
cat "$OUT/comment.md" >> "$GITHUB_STEP_SUMMARY"

if [ -z "$RECONCILE_SERVER_URL" ]; then
  echo "::warning::RECONCILE_SERVER_URL is not set (or this pull request comes from a fork): validated only, no plan."
fi
failed=false
if [ "$validate" = failure ] || [ "$charges" = failure ] || [ "$plan" = failure ]; then
  failed=true
fi
{
  echo "directory=$OUT"
  echo "changes=$changes"
  echo "failed=$failed"
} >> "$GITHUB_OUTPUT"
