#!/bin/sh
# Installs the npm dependencies when node_modules is missing or older than package-lock.json,
# so `npm test`, `npm run demo`, `npm run isthmus` and the other scripts work on a fresh clone.
# Output goes to stderr. Scripts then `exec` their program, so that npm's signals reach it.
set -e
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "isthmus: installing npm dependencies (about a minute on first run)..." >&2
  # npm install, not npm ci: see .ci/run for the lock-file quirk that makes npm ci refuse.
  npm install --no-audit --no-fund 1>&2
fi
