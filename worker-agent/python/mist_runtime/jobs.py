"""Run jobs on a pool of `--max-jobs` threads and report each one's life to the agent.

Every job ends with exactly one of finished / failed / canceled, sent from the job's own
thread after its log lines, so the agent sees them in order. A cancel request marks the
job: a job still queued is dropped and reported canceled at once; a running one has its
Spark job group cancelled and is reported canceled however it then ends.

Spark is reached through `spark_side` (set_job_group, cancel_job_group, handles) so the
bookkeeping here is tested without a JVM.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from mist_runtime import capture, invoke, protocol

# How often a cancelled job that is still running gets its job group cancelled again:
# cancelJobGroup only stops Spark jobs already submitted, and a job may submit another
# after the first cancel (or between binding its group and its first action). Once a
# second keeps py4j traffic negligible while bounding the extra delay.
RECANCEL_INTERVAL_S = 1.0


class _Job:
    __slots__ = ("id", "file_path", "class_name", "arguments", "future", "running",
                 "cancel_requested", "handles")

    def __init__(self, job_id, file_path, class_name, arguments):
        self.id = job_id
        self.file_path = file_path
        self.class_name = class_name
        self.arguments = arguments
        self.future = None
        self.running = False
        self.cancel_requested = False
        self.handles = None


class _CanceledBeforeStart(Exception):
    pass


class JobRunner:
    def __init__(self, max_jobs, connection, loader, spark_side, note):
        """`connection.send_line(bytes)` writes to the agent; `note(text)` writes a debug
        line to the worker's real stderr."""
        self._connection = connection
        self._loader = loader
        self._spark = spark_side
        self._note = note
        self._pool = ThreadPoolExecutor(max_workers=max_jobs, thread_name_prefix="mist-job")
        self._lock = threading.Lock()
        self._jobs = {}
        self._stopping = False
        self._stopped = threading.Event()
        threading.Thread(target=self._recancel_loop, name="mist-recancel", daemon=True).start()

    # -- agent requests ---------------------------------------------------------------

    def submit(self, job_id, file_path, class_name, arguments):
        with self._lock:
            if self._stopping:
                return
            if job_id in self._jobs:
                self._note("job {} is already queued or running; duplicate run ignored".format(job_id))
                return
            job = _Job(job_id, file_path, class_name, arguments)
            self._jobs[job_id] = job
            job.future = self._pool.submit(self._run, job)

    def reject(self, job_id, error):
        """A run request that cannot even be queued (malformed): it fails at once."""
        self._report(protocol.failed(job_id, error))

    def cancel(self, job_id):
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return  # unknown, or already ended and reported
            job.cancel_requested = True
            dropped = job.future.cancel()  # True only while it waits in the pool's queue
            if dropped:
                del self._jobs[job_id]
            handles = job.handles
        if dropped:
            self._note("job {} canceled before it started".format(job_id))
            self._report(protocol.canceled(job_id))
            return
        self._spark.cancel_job_group(job_id)
        if handles is not None:
            handles.cancel()

    def shutdown(self):
        """Stop accepting and reporting; queued jobs are dropped, running ones abandoned."""
        with self._lock:
            self._stopping = True
            running = list(self._jobs)
        self._stopped.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        return running

    # -- one job ----------------------------------------------------------------------

    def _run(self, job):
        with self._lock:
            if self._stopping:
                return
            job.running = True
        # No note on stderr here or at the end: the agent copies the worker's output into
        # the log of every job running on it, so two notes per job would cost every job a
        # log write and a `logs` event. The agent records when the job started and how long
        # it ran from these messages' times instead.
        self._report(protocol.started(job.id))
        finished_line, error = self._execute(job)
        with self._lock:
            self._jobs.pop(job.id, None)
            canceled, stopping = job.cancel_requested, self._stopping
        if stopping:
            return
        if canceled:
            self._report(protocol.canceled(job.id))
        elif error is not None:
            self._report(protocol.failed(job.id, error))
        else:
            self._report_line(finished_line)

    def _execute(self, job):
        """(finished line, None) or (None, error text)."""
        handles = None
        with capture.bound_to(capture.JobLog(job.id, self._log)):
            try:
                self._spark.set_job_group(job.id)
                entry = self._loader.resolve(job.file_path, job.class_name)
                kwargs = invoke.bind(entry, job.arguments)
                handles = self._spark.handles(hive="hive" in entry.tags)
                with self._lock:
                    job.handles = handles
                    if job.cancel_requested:
                        raise _CanceledBeforeStart()
                result = invoke.call(entry, handles, kwargs)
                try:
                    return protocol.encode(protocol.finished(job.id, result)), None
                except (TypeError, ValueError, RecursionError) as exc:
                    return None, "result of {} is not JSON-serialisable: {}".format(job.class_name, exc)
            except _CanceledBeforeStart:
                return None, "canceled"
            except BaseException as exc:  # user code: SystemExit included
                return None, invoke.failure_text(exc)
            finally:
                if handles is not None:
                    handles.close()

    # -- reporting --------------------------------------------------------------------

    def _log(self, job_id, level, message):
        self._report(protocol.log(job_id, level, message))

    def _report(self, message):
        self._report_line(protocol.encode(message))

    def _report_line(self, line):
        if self._stopping:
            return  # after stop the agent decides the fate of what was running
        try:
            self._connection.send_line(line)
        except protocol.ConnectionLost:
            pass  # the reading loop sees the same loss and shuts the worker down

    def _recancel_loop(self):
        while not self._stopped.wait(RECANCEL_INTERVAL_S):
            with self._lock:
                ids = [j.id for j in self._jobs.values() if j.cancel_requested and j.running]
            for job_id in ids:
                try:
                    self._spark.cancel_job_group(job_id)
                except Exception as exc:
                    self._note("cancelling job group {} failed: {}".format(job_id, exc))
