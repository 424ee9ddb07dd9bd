"""The base classes old Mist jobs subclass: `class MyJob(MistJob, WithSQLSupport)`.

The worker creates the job, calls `setup(spark)` with an object exposing the Spark
entry points under the old names (`context`, `session`, `sql_context`, `hive_context`,
`streaming_context`), then calls `execute(**arguments)`. Attributes read from it are
created on first use: a StreamingContext, a SQLContext or a Hive session is only made
for a job that touches it.
"""

__all__ = [
    "ContextSupport",
    "MistJob",
    "WithSQLSupport",
    "WithHiveSupport",
    "WithStreamingSupport",
]

_HANDLES = "_mist_handles"


class _FromSpark(object):
    """An attribute taken from the Spark handles on first read, then kept on the instance.

    A non-data descriptor, so a job may still assign the attribute itself.
    """

    def __init__(self, handle_name):
        self.handle_name = handle_name
        self.name = handle_name

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        handles = instance.__dict__.get(_HANDLES)
        if handles is None:
            raise AttributeError(
                "self.{} is available once Mist has called setup(), i.e. inside execute(), "
                "not in __init__".format(self.name))
        value = getattr(handles, self.handle_name)
        instance.__dict__[self.name] = value
        return value


class ContextSupport(object):
    """Common base: keeps the handles `setup` receives."""

    def setup(self, spark):
        """Called by the worker before `execute`; `spark` exposes the Spark entry points."""
        self.__dict__[_HANDLES] = spark

    def __getstate__(self):
        # A job whose lambdas capture `self` gets pickled to executors; Spark objects
        # cannot travel (and are of no use there), so they are left behind.
        state = dict(self.__dict__)
        state.pop(_HANDLES, None)
        for name in _spark_attribute_names(type(self)):
            state.pop(name, None)
        return state


class MistJob(ContextSupport):
    """Base of every job class; `self.context` is the SparkContext."""

    context = _FromSpark("context")

    def execute(self, **arguments):
        """Override with the job's work; arguments come by name, the result must be JSON."""
        raise NotImplementedError("{} must define execute".format(type(self).__name__))


class WithSQLSupport(ContextSupport):
    """Adds `self.session` (SparkSession) and `self.sql_context` (SQLContext)."""

    session = _FromSpark("session")
    sql_context = _FromSpark("sql_context")


class WithHiveSupport(ContextSupport):
    """Adds `self.session` and `self.hive_context`, both a Hive-enabled SparkSession."""

    session = _FromSpark("hive_session")
    hive_context = _FromSpark("hive_context")


class WithStreamingSupport(ContextSupport):
    """Adds `self.streaming_context`, created on first use with the context's batch duration."""

    streaming_context = _FromSpark("streaming_context")


def _spark_attribute_names(cls):
    return {name for klass in cls.__mro__ for name, value in vars(klass).items()
            if isinstance(value, _FromSpark)}
