#!/usr/bin/env bash
# Prepares, once, the Python environment Mist's workers and function inspector use:
# a virtualenv with pyspark 4.x, mistpy and pytest, plus a Java runtime for Spark.
# Reused when already complete. Prints the interpreter's path on its last line.
#   MIST_PYENV  where the virtualenv lives (default ~/.cache/mist/pyenv)
set -euo pipefail
env_dir=${MIST_PYENV:-$HOME/.cache/mist/pyenv}
python=$env_dir/bin/python

if ! command -v java >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "deploy/python-env.sh: Spark needs Java 17; install it (apt-get install openjdk-17-jre-headless)" >&2; exit 1
  fi
fi

if ! "$python" -c 'import pyspark, mistpy, pytest; assert pyspark.__version__.startswith("4.")' 2>/dev/null; then
  echo "preparing the Python environment in $env_dir (pyspark 4.x, mistpy, pytest)" >&2
  python3 -m venv "$env_dir"
  "$python" -m pip install -q --disable-pip-version-check 'pyspark>=4,<5' mistpy pytest >&2
fi
echo "$python"
