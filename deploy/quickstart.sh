#!/usr/bin/env bash
# The quick start: brings Mist up on this machine with an example function deployed.
#   bash deploy/quickstart.sh        build, (re)start Mist, deploy the example
#   bash deploy/quickstart.sh stop   stop what the quick start started
# Processes run in the background; their logs and pids are under .mist/.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=.mist/run
mkdir -p "$run_dir" .mist/logs
port=${MIST__HTTP__PORT:-2004}
api=http://127.0.0.1:$port/v2/api

stop_all() {
  for pid_file in "$run_dir"/*.pid; do
    [ -e "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$pid_file"
  done
}

if [ "${1:-}" = "stop" ]; then stop_all; echo "Mist stopped"; exit 0; fi

bash deploy/services.sh
python=$(bash deploy/python-env.sh | tail -n 1)
echo "building Mist (release)…"
cargo build --release --bins --locked -q

stop_all
export MIST__PYTHON__BIN=$python MIST__ARTIFACTS__DIR=${MIST__ARTIFACTS__DIR:-$PWD/.mist/artifacts}
for binary in mist-api mist-dispatcher mist-agent; do
  nohup "target/release/$binary" >".mist/logs/$binary.log" 2>&1 &
  echo $! >"$run_dir/$binary.pid"
done

for _ in $(seq 1 100); do curl -fs "$api/status" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$api/status" >/dev/null || { echo "mist-api did not come up; see .mist/logs/mist-api.log" >&2; exit 1; }

# The example: an artifact, a context and an endpoint.
curl -fsS -F file=@examples/functions/simple_context.py "$api/artifacts?force=true" >/dev/null
curl -fsS -X POST "$api/contexts" -d '{"name":"quickstart","maxJobs":4,"sparkConf":{"spark.master":"local[2]"}}' >/dev/null
endpoint='{"name":"simple-context","path":"simple_context.py","className":"simple_context","defaultContext":"quickstart"}'
if curl -fs "$api/endpoints/simple-context" >/dev/null; then
  curl -fsS -X PUT "$api/endpoints" -d "$endpoint" >/dev/null
else
  curl -fsS -X POST "$api/endpoints" -d "$endpoint" >/dev/null
fi

echo
echo "Mist is up at http://127.0.0.1:$port (logs in .mist/logs, stop with: bash deploy/quickstart.sh stop)"
# Wait until the agent has registered, then warm the example's Spark driver once.
for _ in $(seq 1 150); do
  curl -fs "$api/status" | grep -q '"agents":[1-9]' && break; sleep 0.2
done
echo "Deployed endpoint simple-context; calling it once (the first call starts its Spark driver):"
answer=$(curl -fsS -X POST "$api/endpoints/simple-context/jobs?force=true" -d '{"numbers":[1,2,3]}')
echo "$answer"
case "$answer" in
  *'"success":true'*) ;;
  *) echo "the example call failed; see .mist/logs/" >&2; exit 1 ;;
esac
echo "Call it yourself:"
echo "  curl -s -X POST 'localhost:$port/v2/api/endpoints/simple-context/jobs?force=true' -d '{\"numbers\":[1,2,3]}'"
