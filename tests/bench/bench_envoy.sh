#!/usr/bin/env bash
# Envoy-level benchmark (make bench-envoy): no auth vs jwt_authn vs our module, one worker.
# Writes tests/bench/RESULTS.md; arguments go to bench_envoy.py (e.g. --duration 10 --rounds 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/env.sh
exec "$CILIUM_JWT_VENV/bin/python" tests/bench/bench_envoy.py "$@"
