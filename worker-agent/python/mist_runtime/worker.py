"""The worker process: a Spark driver that runs jobs the agent sends over TCP.

Started by the agent through spark-submit (see README.md for the command line and the
protocol). It lives exactly as long as its agent connection: a `stop` ends it with exit
code 0, a lost connection with EXIT_AGENT_LOST, so a worker never outlives its agent.
"""

import argparse
import os
import sys
import threading
import traceback

from mist_runtime import capture, protocol
from mist_runtime.jobs import JobRunner
from mist_runtime.loader import Loader

EXIT_STOPPED = 0
EXIT_INTERNAL = 1
EXIT_AGENT_LOST = 3
EXIT_ORPHANED = 4

CONNECT_TIMEOUT_S = 10.0
# Bound on stopping Spark at exit; past it the process exits anyway (the agent would
# otherwise have to kill a worker that was asked to stop and said nothing).
STOP_GRACE_S = 20.0
# How often to check that spark-submit's JVM (our parent) is still there: if it was
# killed, nothing else tells this process to go.
PARENT_CHECK_S = 2.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="mist_worker.py", description="Mist PySpark worker")
    parser.add_argument("--agent", required=True, help="host:port the agent listens on")
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--max-jobs", type=_positive_int, default=1)
    parser.add_argument("--mode", choices=("shared", "exclusive"), default="shared")
    parser.add_argument("--streaming-duration-s", type=_positive_float, default=1.0)
    args = parser.parse_args(argv)
    try:
        protocol.parse_address(args.agent)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv):
    args = parse_args(argv)
    _real_stdout, real_stderr = capture.install()

    def note(text):
        real_stderr.write("mist-worker {}: {}\n".format(args.worker_id, text))
        real_stderr.flush()

    from pyspark.sql import SparkSession

    from mist_runtime.spark_side import SparkSide

    session = SparkSession.builder.appName("mist-" + args.worker_id).getOrCreate()
    spark = SparkSide(session, args.streaming_duration_s)
    _ship_compat_module_by_value()
    note("spark {} up (mode {}, max jobs {}); connecting to the agent at {}".format(
        session.version, args.mode, args.max_jobs, args.agent))

    code = EXIT_AGENT_LOST
    connection = None
    runner = None
    try:
        connection = protocol.AgentConnection.connect(args.agent, CONNECT_TIMEOUT_S)
        loader = Loader(on_archive_mounted=spark.ship_archive)
        runner = JobRunner(args.max_jobs, connection, loader, spark, note)
        _watch_parent(note)
        connection.send(protocol.hello(args.worker_id, session.version,
                                       spark.context.uiWebUrl, os.getpid()))
        code = serve(connection, runner, note)
    except protocol.ConnectionLost as exc:
        note("agent connection lost: {}".format(exc))
    except OSError as exc:
        note("cannot connect to the agent at {}: {}".format(args.agent, exc))
    except Exception:
        note("internal error:\n" + traceback.format_exc())
        code = EXIT_INTERNAL
    finally:
        _exit_after_stopping(code, spark, runner, connection, note)


def serve(connection, runner, note):
    """Handle the agent's messages until `stop` (returns its exit code) or a lost connection."""
    for message in connection.messages():
        if isinstance(message, ValueError):
            note(str(message))
            continue
        kind = message.get("type")
        if kind == "run":
            _handle_run(message, runner, note)
        elif kind == "cancel":
            job_id = message.get("jobId")
            if isinstance(job_id, str):
                runner.cancel(job_id)
            else:
                note("cancel without a string jobId ignored: {!r}".format(message))
        elif kind == "stop":
            note("stop requested")
            return EXIT_STOPPED
        else:
            note("unknown message type {!r} ignored".format(kind))
    return EXIT_AGENT_LOST  # not reached: messages() raises when the connection ends


def _handle_run(message, runner, note):
    job_id = message.get("jobId")
    if not isinstance(job_id, str) or not job_id:
        note("run without a string jobId ignored: {!r}".format(message))
        return
    file_path, class_name = message.get("filePath"), message.get("className")
    arguments = message.get("arguments")
    arguments = {} if arguments is None else arguments
    if not isinstance(file_path, str) or not isinstance(class_name, str) or not isinstance(arguments, dict):
        runner.reject(job_id, "malformed run message: filePath and className must be strings "
                              "and arguments an object")
        return
    runner.submit(job_id, file_path, class_name, arguments)


def _exit_after_stopping(code, spark, runner, connection, note):
    """Stop Spark (bounded by STOP_GRACE_S) and leave without waiting for job threads."""
    timer = threading.Timer(STOP_GRACE_S, _hard_exit, args=(code,))
    timer.daemon = True
    timer.start()
    if runner is not None:
        abandoned = runner.shutdown()
        if abandoned:
            note("exiting with jobs still running: {}".format(", ".join(abandoned)))
    try:
        spark.stop()
    except Exception as exc:
        note("stopping Spark failed: {}".format(exc))
    if connection is not None:
        connection.close()
    note("exiting with code {}".format(code))
    _hard_exit(code)


def _hard_exit(code):
    # os._exit: pool threads may still be inside user code, and joining them at
    # interpreter exit would keep a stopped worker alive indefinitely.
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def _watch_parent(note):
    parent = os.getppid()
    stop = threading.Event()

    def watch():
        while not stop.wait(PARENT_CHECK_S):
            if os.getppid() != parent:
                note("spark-submit (pid {}) is gone; exiting".format(parent))
                _hard_exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="mist-parent-watch", daemon=True).start()


def _ship_compat_module_by_value():
    """Executors cannot import `mist.mist_job` (this folder is not on their path), so job
    classes that lambdas capture through `self` are pickled with their bases by value."""
    try:
        import mist
        from pyspark import cloudpickle

        cloudpickle.register_pickle_by_value(mist)
    except Exception:
        pass


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer, got {}".format(text))
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number, got {}".format(text))
    return value
