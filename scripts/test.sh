#!/usr/bin/env bash
# npm test: typecheck, lint (including the folder import rules), build, then
# the unit, integration, e2e and electron suites. Everything that touches a
# keychain runs inside a private, throw-away Secret Service
# (scripts/with-test-keyring.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
results=test-results
rm -rf "$results" && mkdir -p "$results"

step() { printf '\n=== %s\n' "$1"; }
run_suite() { # name, then the command prefix
  local name=$1; shift
  step "$name tests"
  "$@" npx vitest run --project "$name" --reporter=default --reporter=json --outputFile="$results/$name.json"
}

step "typecheck"
npm run -s typecheck || exit 1
step "lint"
npm run -s lint || exit 1
step "build"
npx electron-vite build --logLevel warn || exit 1

status=0
run_suite unit || status=1
run_suite integration bash scripts/with-test-keyring.sh || status=1
run_suite e2e bash scripts/with-test-keyring.sh || status=1
run_suite electron bash scripts/with-test-keyring.sh || status=1

step "summary"
node scripts/test-summary.mjs "$results" unit integration e2e electron || status=1
exit $status
