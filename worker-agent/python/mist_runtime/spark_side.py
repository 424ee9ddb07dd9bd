"""The few things the job runner asks of Spark, in one adapter around the SparkSession.

Keeping them here lets `jobs.py` be tested with a fake and keeps every py4j-touching call
of the worker in one place.
"""

import logging

from mist_runtime.spark_handles import HiveSessions, SparkHandles

_log = logging.getLogger("mist.worker")


class SparkSide:
    def __init__(self, session, streaming_duration_s):
        self.session = session
        self.context = session.sparkContext
        self._streaming_duration_s = streaming_duration_s
        self._hive_sessions = HiveSessions(session)
        self._shipped = set()

    def set_job_group(self, job_id):
        """Called in the job's thread: PySpark pins Python threads to JVM threads, so the
        group (a thread-local property in the JVM) covers exactly this job's Spark work."""
        self.context.setJobGroup(job_id, "mist job " + job_id, interruptOnCancel=True)

    def cancel_job_group(self, job_id):
        self.context.cancelJobGroup(job_id)

    def handles(self, hive=False):
        return SparkHandles(self.session, self._hive_sessions, self._streaming_duration_s, hive=hive)

    def ship_archive(self, path):
        """Make an archive importable on executors, which unpickle its functions by name."""
        if path in self._shipped:
            return
        try:
            self.context.addPyFile(path)
            self._shipped.add(path)
        except Exception as exc:
            _log.warning("could not ship %s to executors (%s); functions of it used inside "
                         "Spark tasks may fail to import there", path, exc)

    def stop(self):
        try:
            self.context.cancelAllJobs()
        finally:
            self.session.stop()
