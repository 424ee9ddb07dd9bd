"""The worker's side of the agent protocol: newline-delimited JSON over one TCP connection.

Every message the worker sends is built here, so README.md's protocol table and the code
are checked against one place. Writes come from many threads (each job reports its own
end and logs), so `send` is serialised by a lock; reading happens on one thread only.
"""

import json
import socket
import threading
import time


class ConnectionLost(Exception):
    """The agent closed the connection or writing to it failed: the worker must exit."""


def now_ms():
    return int(time.time() * 1000)


def encode(message):
    """One protocol line. Raises TypeError/ValueError when a value is not JSON (NaN included).

    ensure_ascii=False keeps text readable; a lone surrogate (only possible from a job's
    own strings) becomes "?" rather than making the line invalid UTF-8 for the agent.
    """
    text = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8", "replace")


def hello(worker_id, spark_version, spark_ui, pid):
    return {"type": "hello", "workerId": worker_id, "sparkVersion": spark_version,
            "sparkUi": spark_ui, "pid": pid}


def started(job_id):
    return {"type": "started", "jobId": job_id, "time": now_ms()}


def log(job_id, level, message):
    return {"type": "log", "jobId": job_id, "level": level, "time": now_ms(), "message": message}


def finished(job_id, result):
    return {"type": "finished", "jobId": job_id, "time": now_ms(), "result": result}


def failed(job_id, error):
    return {"type": "failed", "jobId": job_id, "time": now_ms(), "error": error}


def canceled(job_id):
    return {"type": "canceled", "jobId": job_id, "time": now_ms()}


class AgentConnection:
    """The TCP connection to the agent."""

    def __init__(self, sock):
        self._sock = sock
        self._reader = sock.makefile("rb")
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def connect(cls, address, timeout_s):
        host, port = parse_address(address)
        sock = socket.create_connection((host, port), timeout=timeout_s)
        sock.settimeout(None)  # reads block until the agent speaks or goes away
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def send(self, message):
        self.send_line(encode(message))

    def send_line(self, line):
        with self._lock:
            if self._closed:
                raise ConnectionLost("connection to the agent is closed")
            try:
                self._sock.sendall(line)
            except OSError as exc:
                self._closed = True
                raise ConnectionLost("writing to the agent failed: {}".format(exc))

    def messages(self):
        """Yield the agent's messages; malformed lines are yielded as `ValueError`s.

        Ends (raising ConnectionLost) when the agent closes the connection.
        """
        while True:
            try:
                line = self._reader.readline()
            except OSError as exc:
                raise ConnectionLost("reading from the agent failed: {}".format(exc))
            if not line:
                raise ConnectionLost("the agent closed the connection")
            if not line.strip():
                continue
            try:
                message = json.loads(line.decode("utf-8"))
                if not isinstance(message, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield ValueError("malformed line from the agent ({}): {!r}".format(exc, line[:200]))
                continue
            yield message

    def close(self):
        with self._lock:
            self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


def parse_address(address):
    """`host:port`, with `[v6]:port` accepted too."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError("agent address must be host:port, got {!r}".format(address))
    return host.strip("[]"), int(port)
