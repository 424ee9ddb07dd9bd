"""The Spark objects a job may ask for, each made only when first asked for.

One `SparkHandles` per job: its attribute names are the old Mist `ContextWrapper`'s, so
`mist.mist_job` classes (ours, or a user's own copy of the old module) read them as they
always did. A StreamingContext belongs to its job and is stopped when the job ends or is
cancelled; the Hive-enabled session is made once per worker and shared.
"""

import logging
import threading

_log = logging.getLogger("mist.worker")


class HiveSessions:
    """The worker's one Hive-enabled session, made on first use.

    The catalog implementation is fixed when a session's shared state is built, so the
    worker's plain session cannot be switched to Hive; a second session on the same
    SparkContext is made with Hive enabled instead (Spark 4.2+ can create one in classic
    mode). Without Hive classes on the classpath, jobs get the plain session and a warning.
    """

    def __init__(self, session):
        self._session = session
        self._hive = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._hive is None:
                self._hive = self._create()
            return self._hive

    def _create(self):
        session = self._session
        try:
            if session.conf.get("spark.sql.catalogImplementation", "in-memory") == "hive":
                return session
        except Exception:
            pass
        if not _hive_classes_present(session):
            _log.warning("Hive classes are not on the classpath; using a session without Hive support")
            return session
        try:
            from pyspark.sql import SparkSession

            return SparkSession.builder.enableHiveSupport().create()
        except Exception as exc:
            _log.warning("cannot create a Hive-enabled session (%s: %s); using the plain session",
                         type(exc).__name__, exc)
            return session


def _hive_classes_present(session):
    try:
        loader = session.sparkContext._jvm.java.lang.Thread.currentThread().getContextClassLoader()
        loader.loadClass("org.apache.hadoop.hive.conf.HiveConf")
        return True
    except Exception:
        return False


class SparkHandles:
    """Lazy Spark entry points for one job; `hive` makes `session` the Hive-enabled one."""

    def __init__(self, session, hive_sessions, streaming_duration_s, hive=False):
        self._session = session
        self._hive_sessions = hive_sessions
        self._streaming_duration_s = streaming_duration_s
        self._hive = hive
        self._sql_context = None
        self._streaming_context = None
        self._lock = threading.Lock()  # cancel() runs on the agent-reading thread

    @property
    def context(self):
        return self._session.sparkContext

    @property
    def session(self):
        return self.hive_session if self._hive else self._session

    @property
    def hive_session(self):
        return self._hive_sessions.get()

    # HiveContext is gone from modern Spark; its replacement is the Hive-enabled session.
    hive_context = hive_session

    @property
    def sql_context(self):
        if self._sql_context is None:
            try:
                from pyspark.sql import SQLContext

                self._sql_context = SQLContext(self.context, sparkSession=self.session)
            except Exception:  # removed in some future Spark: the session has the same API
                self._sql_context = self.session
        return self._sql_context

    @property
    def streaming_context(self):
        with self._lock:
            if self._streaming_context is None:
                from pyspark.streaming import StreamingContext

                self._streaming_context = StreamingContext(self.context, self._streaming_duration_s)
            return self._streaming_context

    def close(self):
        """Stop what belongs to this job alone (its StreamingContext), never the SparkContext.

        Only one StreamingContext can run per JVM, so one left running would break the next
        streaming job; stopping it also ends a job blocked in `awaitTermination` on cancel.
        """
        with self._lock:
            streaming, self._streaming_context = self._streaming_context, None
        if streaming is not None and _was_started(streaming):
            try:
                streaming.stop(stopSparkContext=False, stopGraceFully=False)
            except Exception as exc:
                _log.debug("stopping the streaming context failed: %s", exc)

    cancel = close


def _was_started(streaming):
    """Stopping a context that never started only logs a JVM warning; skip it."""
    try:
        return str(streaming._jssc.getState()) != "INITIALIZED"
    except Exception:
        return True
