"""Shared paths and helpers; the runtime folder goes on sys.path as it is for the scripts."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUNCTIONS_DIR = os.path.join(RUNTIME_DIR, "tests", "functions")

if RUNTIME_DIR not in sys.path:
    sys.path.insert(0, RUNTIME_DIR)


def function_file(name):
    return os.path.join(FUNCTIONS_DIR, name)


def run_inspect(artifact, class_name):
    """(exit code, parsed stdout line, stderr) of `mist_inspect.py` run as the agent does."""
    proc = subprocess.run(
        [sys.executable, os.path.join(RUNTIME_DIR, "mist_inspect.py"), artifact, class_name],
        capture_output=True, text=True, timeout=60, cwd="/",
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, "expected one line on stdout, got {!r} (stderr: {})".format(
        proc.stdout, proc.stderr)
    return proc.returncode, json.loads(lines[0]), proc.stderr


def zip_dir(source_dir, archive_path):
    """Zip a folder's contents (not the folder itself), as a package artifact is built."""
    with zipfile.ZipFile(archive_path, "w") as archive:
        for root, _dirs, files in os.walk(source_dir):
            for name in files:
                if name.endswith(".pyc"):
                    continue
                full = os.path.join(root, name)
                archive.write(full, os.path.relpath(full, source_dir))
    return archive_path


@pytest.fixture
def package_zip(tmp_path):
    return zip_dir(os.path.join(FUNCTIONS_DIR, "zip_pkg"), str(tmp_path / "pkg.zip"))
