#!/usr/bin/env bash
# The test command: makes sure RabbitMQ, Redis and the Python environment are there, then
# runs every test — Rust (unit and end-to-end) and the PySpark runtime's own.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/services.sh
python=$(bash deploy/python-env.sh | tail -n 1)
export MIST_TEST_PYTHON=$python
"$python" -m pytest -q worker-agent/python/tests
# The end-to-end tests start the real binaries, built with the fault points the fault
# scenarios hold processes at (mist_common::fault); both commands use the same features so
# they share one build.
cargo build --bins --locked --features mist-common/failpoints
cargo test --workspace --locked --features mist-common/failpoints
