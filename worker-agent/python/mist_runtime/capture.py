"""Route what a job prints or logs to that job's log, by the thread it runs on.

Several jobs share one process, so `sys.stdout` cannot be swapped per job; instead it is
replaced once by a stream that asks a thread-local which job the writing thread runs.
Other threads (the worker itself, py4j, threads a job started) write to the real stream,
which the agent captures as the worker's own output. A `logging` handler on the root
logger does the same for log records, keeping their level.
"""

import logging
import sys
import threading

# A log line longer than this is cut: one runaway print must not produce a message the
# agent has to buffer whole. The store bounds lines per job; this bounds one line.
MAX_LINE_CHARS = 16 * 1024

_current = threading.local()


class JobLog:
    """The log of one job, written by its thread. `emit(job_id, level, message)` sends a line.

    Partial lines are buffered per stream until their newline (or the job's end), so
    `print(a, end="")` followed by `print(b)` is one line, and stdout and stderr do not
    interleave inside a line.
    """

    def __init__(self, job_id, emit):
        self.job_id = job_id
        self._emit = emit
        self._partial = {}

    def write(self, stream_name, text):
        buffered = self._partial.pop(stream_name, "") + text
        lines = buffered.split("\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE_CHARS:  # no newline in sight: do not hold it forever
            lines.append(rest)
        elif rest:
            self._partial[stream_name] = rest
        for line in lines:
            self.line("INFO", line)

    def line(self, level, message):
        message = message.rstrip("\r")
        if len(message) > MAX_LINE_CHARS:
            message = message[:MAX_LINE_CHARS] + " ... (line cut at {} characters)".format(MAX_LINE_CHARS)
        try:
            self._emit(self.job_id, level, message)
        except Exception:
            pass  # a lost agent connection is noticed and handled by the reading loop

    def flush(self):
        partial, self._partial = self._partial, {}
        for text in partial.values():
            self.line("INFO", text)


class bound_to:
    """Context manager: while it is active, this thread's output belongs to `job_log`."""

    def __init__(self, job_log):
        self.job_log = job_log

    def __enter__(self):
        self._previous = getattr(_current, "job_log", None)
        _current.job_log = self.job_log
        return self.job_log

    def __exit__(self, *exc):
        self.job_log.flush()
        _current.job_log = self._previous
        return False


def current_job_log():
    return getattr(_current, "job_log", None)


class RoutingStream(object):
    """Stands in for sys.stdout / sys.stderr; everything but `write` is the real stream's."""

    def __init__(self, real, name):
        self._real = real
        self._name = name

    def write(self, text):
        job_log = current_job_log()
        if job_log is None:
            return self._real.write(text)
        job_log.write(self._name, text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if current_job_log() is None:
            self._real.flush()

    def isatty(self):
        return False

    def __getattr__(self, name):
        return getattr(self._real, name)


class JobLogHandler(logging.Handler):
    """Root handler: records of a job's thread go to its log; others, from WARNING up,
    to the real stderr (what Python does when no handler is configured)."""

    def __init__(self, real_stderr):
        super().__init__()
        self._real_stderr = real_stderr
        self.setFormatter(logging.Formatter("%(message)s"))
        self._fallback = logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def emit(self, record):
        try:
            job_log = current_job_log()
            if job_log is None:
                if record.levelno >= logging.WARNING:
                    self._real_stderr.write(self._fallback.format(record) + "\n")
                return
            level = level_name(record.levelno)
            for line in self.format(record).split("\n"):
                job_log.line(level, line)
        except Exception:
            self.handleError(record)


def level_name(levelno):
    """Python's level as a log-line level: WARNING is WARN, CRITICAL is ERROR."""
    if levelno >= logging.ERROR:
        return "ERROR"
    if levelno >= logging.WARNING:
        return "WARN"
    if levelno >= logging.INFO:
        return "INFO"
    return "DEBUG"


def install():
    """Replace sys.stdout/sys.stderr and attach the logging handler; returns the real streams.

    The root logger is lowered to INFO so `logging.info` in a job reaches its log (a job
    wanting DEBUG sets its own logger's level); py4j, which logs every call from the job's
    thread at DEBUG/INFO, is kept at WARNING.
    """
    real_stdout, real_stderr = sys.stdout, sys.stderr
    sys.stdout = RoutingStream(real_stdout, "stdout")
    sys.stderr = RoutingStream(real_stderr, "stderr")
    root = logging.getLogger()
    root.addHandler(JobLogHandler(real_stderr))
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    return real_stdout, real_stderr
