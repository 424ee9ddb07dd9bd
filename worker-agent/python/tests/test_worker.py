"""mist_worker.py under a real spark-submit, with this test playing the agent."""

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

import pyspark
import pytest

from conftest import FUNCTIONS_DIR, RUNTIME_DIR, function_file, zip_dir

SPARK_START_S = 120  # a cold JVM on a busy CI host
JOB_S = 60
CANCEL_S = 10

pytestmark = pytest.mark.slow


class Agent:
    """The agent's end of the protocol: a listening socket and a queue of received messages."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.messages = queue.Queue()
        self.seen = []
        self.conn = None

    def accept(self, proc, timeout):
        self.server.settimeout(1)
        deadline = time.monotonic() + timeout
        while self.conn is None:
            if proc.poll() is not None:
                raise AssertionError("worker exited with {} before connecting".format(proc.returncode))
            if time.monotonic() > deadline:
                raise AssertionError("worker did not connect within {}s".format(timeout))
            try:
                self.conn, _ = self.server.accept()
            except socket.timeout:
                pass
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.conn.makefile("rb"):
            self.messages.put(json.loads(line.decode("utf-8")))
        self.messages.put({"type": "<eof>"})

    def send(self, message):
        self.conn.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def wait_for(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            for message in self.seen:
                if predicate(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no {} within {}s; received: {}".format(what, timeout, self.seen))
            try:
                self.seen.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                pass

    def end_of(self, job_id, timeout=JOB_S):
        return self.wait_for(lambda m: m.get("jobId") == job_id
                             and m["type"] in ("finished", "failed", "canceled"),
                             timeout, "end of job " + job_id)

    def run(self, job_id, path, class_name, arguments=None, timeout=JOB_S):
        self.send({"type": "run", "jobId": job_id, "filePath": path, "className": class_name,
                   "arguments": arguments or {}})
        return self.end_of(job_id, timeout)

    def of_job(self, job_id):
        return [m for m in self.seen if m.get("jobId") == job_id]


def start_worker(agent, tmp_path, worker_id="w1"):
    spark_submit = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
               PYSPARK_DRIVER_PYTHON=sys.executable)
    command = [spark_submit,
               "--conf", "spark.master=local[1]", "--conf", "spark.ui.enabled=false",
               os.path.join(RUNTIME_DIR, "mist_worker.py"),
               "--agent", "127.0.0.1:{}".format(agent.port), "--worker-id", worker_id,
               "--max-jobs", "1", "--mode", "shared", "--streaming-duration-s", "0.5"]
    log = open(tmp_path / "{}.log".format(worker_id), "w")
    proc = subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=log, stderr=subprocess.STDOUT)
    return proc, tmp_path / "{}.log".format(worker_id)


def finished(agent, job_id, path, class_name, arguments=None):
    end = agent.run(job_id, path, class_name, arguments)
    assert end["type"] == "finished", end
    return end["result"]


def test_worker_runs_reports_cancels_and_stops(tmp_path):
    agent = Agent()
    proc, log_path = start_worker(agent, tmp_path)
    began = time.monotonic()
    try:
        agent.accept(proc, SPARK_START_S)
        hello = agent.wait_for(lambda m: m["type"] == "hello", SPARK_START_S, "hello")
        assert hello["workerId"] == "w1" and hello["sparkVersion"] == pyspark.__version__
        assert hello["sparkUi"] is None and isinstance(hello["pid"], int)

        check_styles(agent, tmp_path)
        check_output_and_failures(agent)
        check_cancel(agent)

        agent.send({"type": "stop"})
        assert proc.wait(timeout=60) == 0
        agent.wait_for(lambda m: m["type"] == "<eof>", 10, "connection close")
        print("worker test took {:.1f}s".format(time.monotonic() - began))
    except BaseException:
        print(log_path.read_text()[-8000:])
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def check_styles(agent, tmp_path):
    assert finished(agent, "mistpy", function_file("simple_context.py"), "simple_context",
                    {"numbers": [1, 2, 3]}) == [2, 4, 6]
    variants = function_file("mistpy_variants.py")
    assert finished(agent, "session", variants, "session_fn") == "SparkSession"
    assert finished(agent, "sql", variants, "sql_fn", {"query": "q"}) == ["SQLContext", "q", None]
    assert finished(agent, "hive", variants, "hive_session_fn") == ["SparkSession", "hive"]
    assert finished(agent, "hivectx", variants, "hive_context_fn") == "SparkSession"
    assert finished(agent, "stream", variants, "streaming_fn") == ["StreamingContext", True]

    jobs = function_file("mist_job_class.py")
    assert finished(agent, "mistjob", jobs, "MultiplyJob", {"numbers": [1, 2], "multiplier": 3}) == {
        "products": [3, 6], "session": "SparkSession", "sql_context": "SQLContext"}
    assert finished(agent, "hivejob", jobs, "HiveJob") == "hive"
    assert finished(agent, "streamjob", jobs, "StreamingJob") == "StreamingContext"

    assert finished(agent, "plain", function_file("plain_function.py"), "multiply",
                    {"numbers": [1, 2]}) == [2.0, 4.0]
    package = zip_dir(os.path.join(FUNCTIONS_DIR, "zip_pkg"), str(tmp_path / "pkg.zip"))
    assert finished(agent, "zip", package, "pkg.mod.fn", {"numbers": [1, 2]}) == [3, 6]

    missing = agent.run("missing-arg", function_file("simple_context.py"), "simple_context")
    assert missing["type"] == "failed"
    assert missing["error"] == "missing argument numbers of simple_context"


def check_output_and_failures(agent):
    jobs = function_file("worker_jobs.py")
    assert finished(agent, "chatty", jobs, "chatty") == "ok"
    logs = [(m["level"], m["message"]) for m in agent.of_job("chatty") if m["type"] == "log"]
    assert logs == [("INFO", "hello world"), ("INFO", "partial line"), ("INFO", "to stderr"),
                    ("WARN", "careful world"), ("INFO", "fyi")]
    types = [m["type"] for m in agent.of_job("chatty")]
    assert types[0] == "started" and types[-1] == "finished"

    end = agent.run("set", jobs, "non_json")
    assert end == dict(end, type="failed", error="result of non_json is not JSON-serialisable: "
                                                 "Object of type set is not JSON serializable")
    end = agent.run("nan", jobs, "not_a_number")
    assert end["type"] == "failed"
    assert end["error"].startswith("result of not_a_number is not JSON-serialisable: Out of range float")

    end = agent.run("boom", jobs, "boom", {"message": "it broke"})
    assert end["type"] == "failed"
    assert end["error"].startswith("ValueError: it broke\nTraceback (most recent call last):\n")
    assert "helper_that_fails" in end["error"] and "worker_jobs.py" in end["error"]
    assert 'raise ValueError(message)' in end["error"]


def check_cancel(agent):
    jobs = function_file("worker_jobs.py")
    agent.send({"type": "run", "jobId": "sleepy", "filePath": jobs, "className": "sleepy",
                "arguments": {}})
    agent.wait_for(lambda m: m == dict(m, type="started", jobId="sleepy"), JOB_S, "sleepy started")

    # --max-jobs 1: this one waits in the pool's queue; cancelling it drops it at once.
    agent.send({"type": "run", "jobId": "queued", "filePath": jobs, "className": "quick",
                "arguments": {}})
    agent.send({"type": "cancel", "jobId": "queued"})
    assert agent.end_of("queued", CANCEL_S)["type"] == "canceled"
    assert [m["type"] for m in agent.of_job("queued")] == ["canceled"]
    assert [m["type"] for m in agent.of_job("sleepy")] == ["started"]  # still running

    cancel_sent = time.monotonic()
    agent.send({"type": "cancel", "jobId": "sleepy"})
    assert agent.end_of("sleepy", CANCEL_S)["type"] == "canceled"
    print("cancel took {:.2f}s".format(time.monotonic() - cancel_sent))

    assert finished(agent, "after-cancel", jobs, "quick") == 3


def test_worker_exits_when_the_agent_goes_away(tmp_path):
    agent = Agent()
    proc, log_path = start_worker(agent, tmp_path, worker_id="w2")
    try:
        agent.accept(proc, SPARK_START_S)
        agent.wait_for(lambda m: m["type"] == "hello", SPARK_START_S, "hello")
        agent.send({"type": "run", "jobId": "sleepy", "filePath": function_file("worker_jobs.py"),
                    "className": "sleepy", "arguments": {}})
        agent.wait_for(lambda m: m == dict(m, type="started", jobId="sleepy"), JOB_S, "started")
        agent.conn.shutdown(socket.SHUT_RDWR)
        agent.conn.close()
        assert proc.wait(timeout=60) == 3  # EXIT_AGENT_LOST, with a job still running
    except BaseException:
        print(log_path.read_text()[-8000:])
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
