#!/usr/bin/env bash
# Regenerates fixtures/sample/nova_api.sqlite, the small nova_api that the
# README's first command migrates. A Rocky cloud: the release operators
# migrated from when placement left nova (Stein), with the flaws such a cloud
# carried (see docs/fixtures.md). Deterministic: the same file every time.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/commands/fixtures/generate.js ] || npm run build
rm -f fixtures/sample/nova_api.sqlite
node bin/run.js fixtures generate --release rocky --providers 24 --consumers 800 --seed 2016 \
  --target sqlite:///fixtures/sample/nova_api.sqlite "$@"
