"""The worker's bookkeeping without a JVM: argument binding, output capture, job runner."""

import json
import logging
import queue
import sys
import threading
import time

import pytest

from mist_runtime import capture, invoke
from mist_runtime.entry import Entry, Param
from mist_runtime.jobs import JobRunner
from mist_runtime.protocol import ConnectionLost

DEADLINE_S = 10


# -- bind --------------------------------------------------------------------------

def entry_with(params, accepts_any=False):
    return Entry("function", None, "fn", params, accepts_any)


def test_bind_fills_defaults_and_treats_null_as_absent():
    entry = entry_with([Param("numbers", None, False), Param("multiplier", float, True, 2),
                        Param("label", str, True, None)])
    assert invoke.bind(entry, {"numbers": [1], "multiplier": None}) == {
        "numbers": [1], "multiplier": 2, "label": None}


def test_bind_names_missing_and_unknown_arguments():
    entry = entry_with([Param("numbers", None, False)])
    with pytest.raises(invoke.ArgumentError, match="missing argument numbers of fn"):
        invoke.bind(entry, {})
    with pytest.raises(invoke.ArgumentError, match=r"fn does not take argument extra \(it takes: numbers\)"):
        invoke.bind(entry, {"numbers": [], "extra": 1})
    assert invoke.bind(entry_with([], accepts_any=True), {"extra": 1}) == {"extra": 1}


# -- capture -----------------------------------------------------------------------

def test_job_log_splits_lines_per_stream_and_flushes_partial_ones():
    lines = []
    log = capture.JobLog("j1", lambda job, level, message: lines.append((job, level, message)))
    log.write("stdout", "a")
    log.write("stderr", "err\n")
    log.write("stdout", "b\nc\r\nd")
    log.flush()
    assert lines == [("j1", "INFO", "err"), ("j1", "INFO", "ab"), ("j1", "INFO", "c"),
                     ("j1", "INFO", "d")]


def test_routing_stream_writes_to_the_real_stream_outside_jobs():
    class Real:
        def __init__(self):
            self.text = ""

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    real, lines = Real(), []
    stream = capture.RoutingStream(real, "stdout")
    stream.write("outside\n")
    with capture.bound_to(capture.JobLog("j1", lambda *line: lines.append(line))):
        stream.write("inside\n")
    assert real.text == "outside\n"
    assert lines == [("j1", "INFO", "inside")]


@pytest.mark.parametrize("levelno, name", [
    (logging.DEBUG, "DEBUG"), (logging.INFO, "INFO"), (logging.WARNING, "WARN"),
    (logging.ERROR, "ERROR"), (logging.CRITICAL, "ERROR"),
])
def test_log_levels(levelno, name):
    assert capture.level_name(levelno) == name


# -- job runner --------------------------------------------------------------------

class FakeConnection:
    def __init__(self):
        self.messages = queue.Queue()
        self.seen = []

    def send_line(self, line):
        self.messages.put(json.loads(line.decode("utf-8")))

    def wait_for(self, predicate, timeout=DEADLINE_S):
        deadline = time.monotonic() + timeout
        while True:
            for message in self.seen:
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no matching message in {}".format(self.seen))
            try:
                self.seen.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                pass

    def end_of(self, job_id):
        return self.wait_for(lambda m: m.get("jobId") == job_id
                             and m["type"] in ("finished", "failed", "canceled"))


class FakeSpark:
    """Cancelling a group releases the jobs blocked in `wait_for_cancel` of that group."""

    def __init__(self):
        self.groups = {}
        self.cancelled = []
        self.local = threading.local()

    def set_job_group(self, job_id):
        self.local.group = job_id
        self.groups.setdefault(job_id, threading.Event())

    def cancel_job_group(self, job_id):
        self.cancelled.append(job_id)
        self.groups.setdefault(job_id, threading.Event()).set()

    def wait_for_cancel(self):
        if not self.groups[self.local.group].wait(DEADLINE_S):
            raise AssertionError("never cancelled")
        raise RuntimeError("Job cancelled part of cancelled job group")

    def handles(self, hive=False):
        return FakeHandles(self)


class FakeHandles:
    def __init__(self, spark):
        self.session = spark

    def close(self):
        pass

    cancel = close


class FakeLoader:
    def __init__(self, functions):
        self.functions = functions

    def resolve(self, path, class_name):
        return Entry("function", self.functions[class_name], class_name, [], accepts_any_args=True)


@pytest.fixture
def harness():
    spark, connection = FakeSpark(), FakeConnection()
    release = threading.Event()

    def blocked(spark_):
        release.wait(DEADLINE_S)
        return "released"

    functions = {
        "echo": lambda spark_, **kw: kw,
        "printer": lambda spark_: print("hello from the job") or 1,
        "set_result": lambda spark_: {1, 2},
        "raiser": lambda spark_: 1 / 0,
        "blocked": blocked,
        "spark_work": lambda spark_: spark_.wait_for_cancel(),
    }
    runner = JobRunner(1, connection, FakeLoader(functions), spark, note=lambda text: None)
    yield runner, connection, spark, release
    release.set()
    runner.shutdown()


def test_finished_job_reports_started_then_result(harness):
    runner, connection, _spark, _release = harness
    runner.submit("j1", "/f.py", "echo", {"a": 1})
    end = connection.end_of("j1")
    assert end["type"] == "finished" and end["result"] == {"a": 1}
    types = [m["type"] for m in connection.seen if m.get("jobId") == "j1"]
    assert types == ["started", "finished"]


def test_prints_become_log_lines_before_the_end(harness, monkeypatch):
    runner, connection, _spark, _release = harness
    # Set here, not in a fixture: pytest re-installs its own sys.stdout after fixture setup.
    monkeypatch.setattr(sys, "stdout", capture.RoutingStream(sys.stdout, "stdout"))
    runner.submit("j1", "/f.py", "printer", {})
    connection.end_of("j1")
    job_messages = [m for m in connection.seen if m.get("jobId") == "j1"]
    assert [m["type"] for m in job_messages] == ["started", "log", "finished"]
    assert job_messages[1]["level"] == "INFO" and job_messages[1]["message"] == "hello from the job"


def test_non_json_result_and_exception_fail(harness):
    runner, connection, _spark, _release = harness
    runner.submit("j1", "/f.py", "set_result", {})
    runner.submit("j2", "/f.py", "raiser", {})
    assert connection.end_of("j1")["error"] == (
        "result of set_result is not JSON-serialisable: Object of type set is not JSON serializable")
    error = connection.end_of("j2")["error"]
    assert error.startswith("ZeroDivisionError: division by zero\nTraceback (most recent call last):")
    assert "1 / 0" in error and "jobs.py" not in error


def test_cancel_of_a_queued_job_drops_it_at_once(harness):
    runner, connection, spark, release = harness
    runner.submit("j1", "/f.py", "blocked", {})
    connection.wait_for(lambda m: m["type"] == "started" and m["jobId"] == "j1")
    runner.submit("j2", "/f.py", "echo", {})
    runner.cancel("j2")
    assert connection.end_of("j2")["type"] == "canceled"
    assert "j2" not in spark.cancelled  # never started, so no Spark work to cancel
    release.set()
    assert connection.end_of("j1")["type"] == "finished"
    assert not any(m.get("jobId") == "j2" and m["type"] == "started" for m in connection.seen)


def test_cancel_of_a_running_job_cancels_its_group_and_reports_canceled(harness):
    runner, connection, spark, _release = harness
    runner.submit("j1", "/f.py", "spark_work", {})
    connection.wait_for(lambda m: m["type"] == "started" and m["jobId"] == "j1")
    runner.cancel("j1")
    assert connection.end_of("j1")["type"] == "canceled"
    assert "j1" in spark.cancelled
    runner.cancel("j1")  # already over: ignored, nothing more is reported


def test_nothing_is_reported_after_shutdown(harness):
    runner, connection, _spark, release = harness
    runner.submit("j1", "/f.py", "blocked", {})
    connection.wait_for(lambda m: m["type"] == "started")
    assert runner.shutdown() == ["j1"]
    release.set()
    runner.submit("j2", "/f.py", "echo", {})
    time.sleep(0.2)  # asserting an absence: give a wrongly sent message a moment to show
    while not connection.messages.empty():
        connection.seen.append(connection.messages.get())
    assert [m["type"] for m in connection.seen] == ["started"]


def test_lost_connection_does_not_break_the_job_thread():
    class Broken:
        def send_line(self, line):
            raise ConnectionLost("gone")

    done = threading.Event()
    runner = JobRunner(1, Broken(), FakeLoader({"f": lambda s: done.set()}), FakeSpark(),
                       note=lambda text: None)
    runner.submit("j1", "/f.py", "f", {})
    assert done.wait(DEADLINE_S)
    runner.shutdown()
