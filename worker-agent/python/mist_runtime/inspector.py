"""Answer "what does this function take?" for the API, without starting Spark.

The answer is one JSON line on stdout and the exit code (0, or 2 with an error kind).
User code runs while the artifact is imported and may print; its output is moved to
stderr at the file-descriptor level (C extensions included) so stdout carries nothing
but the answer.
"""

import contextlib
import json
import os
import sys

from mist_runtime.errors import LoadError, exception_summary
from mist_runtime.loader import Loader

EXIT_OK = 0
EXIT_FAILED = 2
EXIT_USAGE = 64  # EX_USAGE: the caller (the agent) is wrong, not the artifact

USAGE = "usage: mist_inspect.py <artifact_path> <className>"


def inspect_artifact(path, class_name):
    """(answer, exit code) for one artifact and name."""
    try:
        entry = Loader().resolve(path, class_name)
        return entry.to_json(), EXIT_OK
    except LoadError as exc:
        return {"error": exc.message, "kind": exc.kind}, EXIT_FAILED
    except BaseException as exc:  # user code reached by classification; never a traceback
        return {"error": "inspecting {} failed: {}".format(class_name, exception_summary(exc)),
                "kind": "artifact"}, EXIT_FAILED


def main(argv):
    if len(argv) != 2:
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    with _stdout_moved_to_stderr() as answer_stream:
        answer, code = inspect_artifact(argv[0], argv[1])
        answer_stream.write(json.dumps(answer, separators=(",", ":")) + "\n")
        answer_stream.flush()
    return code


@contextlib.contextmanager
def _stdout_moved_to_stderr():
    """Point fd 1 (and sys.stdout) at stderr; yield a stream on the original stdout."""
    sys.stdout.flush()
    original = os.dup(1)
    os.dup2(2, 1)
    saved_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        with os.fdopen(os.dup(original), "w", encoding="utf-8") as answer_stream:
            yield answer_stream
    finally:
        sys.stdout = saved_stdout
        os.dup2(original, 1)
        os.close(original)
