"""Call a classified Entry: bind its arguments, hand it its Spark object, describe failures.

The runtime computes every keyword argument itself, defaults included, and calls the
function with all of them: mistpy's `with_args` wrapper only applies its last argument
decorator, so it cannot be trusted to fill defaults.
"""

import os
import traceback

from mist_runtime import entry as entries
from mist_runtime.errors import LoadError

TRACEBACK_LINES = 20
MAX_MESSAGE_CHARS = 4000  # a Py4JJavaError's message carries a whole Java stack trace

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


class ArgumentError(Exception):
    """The call's arguments do not fit the function (the API should have refused them)."""


def bind(entry, arguments):
    """The keyword arguments to call `entry` with.

    A null argument counts as absent (the API's rule), so its default applies.
    """
    given = {k: v for k, v in (arguments or {}).items() if v is not None}
    kwargs, missing = {}, []
    for param in entry.params:
        if param.name in given:
            kwargs[param.name] = given.pop(param.name)
        elif param.optional:
            kwargs[param.name] = param.default
        else:
            missing.append(param.name)
    if missing:
        raise ArgumentError("missing argument{} {} of {}".format(
            "s" if len(missing) > 1 else "", ", ".join(missing), entry.name))
    if given:
        if not entry.accepts_any_args:
            declared = ", ".join(p.name for p in entry.params) or "none"
            raise ArgumentError("{} does not take argument{} {} (it takes: {})".format(
                entry.name, "s" if len(given) > 1 else "", ", ".join(sorted(given)), declared))
        kwargs.update(given)
    return kwargs


def call(entry, handles, kwargs):
    """Run the function and return its result."""
    if entry.style == "jar":
        raise ArgumentError("{} is a jar entry point: it runs as its own Spark application "
                            "(spark-submit --class), not in the Python worker".format(entry.name))
    if entry.style == "mist_job":
        job = entry.target()
        run_setup(job, handles)
        return job.execute(**kwargs)
    return entry.target(spark_argument(entry.spark_arg, handles), **kwargs)


def spark_argument(spark_arg, handles):
    """The Spark object a function's first parameter receives, by mistpy's type_choice."""
    if spark_arg == entries.CONTEXT:
        return handles.context
    if spark_arg == entries.SQL_CONTEXT:
        return handles.sql_context
    if spark_arg in (entries.HIVE_CONTEXT, entries.HIVE_SESSION):
        return handles.hive_session
    if spark_arg == entries.STREAMING:
        return handles.streaming_context
    return handles.session


def run_setup(job, handles):
    """Call every `setup` defined along the job's class hierarchy, base classes first.

    The old Mist module's mixins each defined a `setup` that did not call `super()`; a
    user's copy of it only works if each is called. Ours is a single cooperative one, so
    this calls it once.
    """
    for klass in reversed(type(job).__mro__):
        setup = vars(klass).get("setup")
        if callable(setup):
            setup(job, handles)


def failure_text(exc):
    """`<ExcType>: <message>` then the last lines of the traceback, runtime frames left out."""
    if isinstance(exc, (ArgumentError, LoadError)):
        return str(exc)  # the runtime's own messages: already complete, no traceback needed
    message = str(exc)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "... ({} more characters)".format(
            len(message) - MAX_MESSAGE_CHARS)
    head = "{}: {}".format(type(exc).__name__, message) if message else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename.startswith(_RUNTIME_DIR):
        frames.pop(0)
    if not frames:
        return head
    lines = "".join(traceback.format_list(frames)).rstrip("\n").split("\n")
    return head + "\nTraceback (most recent call last):\n" + "\n".join(lines[-TRACEBACK_LINES:])
