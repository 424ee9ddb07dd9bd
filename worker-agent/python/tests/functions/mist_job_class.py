"""Old Mist style: a class subclassing MistJob (`from mist.mist_job import *`)."""

from typing import List

from mist.mist_job import *  # noqa: F401,F403 - how old Mist jobs import it


class MultiplyJob(MistJob, WithSQLSupport):
    def execute(self, numbers: List[int], multiplier: float = 2):
        rdd = self.context.parallelize(numbers)
        self.multiplier = multiplier
        # The lambda captures `self`: the job instance is pickled to the executors.
        return {"products": rdd.map(lambda x: x * self.factor()).collect(),
                "session": type(self.session).__name__,
                "sql_context": type(self.sql_context).__name__}

    def factor(self):
        return self.multiplier


class UntypedJob(MistJob):
    def execute(self, numbers, multiplier=2):
        return [n * multiplier for n in numbers]


class HiveJob(MistJob, WithHiveSupport):
    def execute(self):
        return self.session.conf.get("spark.sql.catalogImplementation")


class StreamingJob(MistJob, WithStreamingSupport):
    def execute(self, **options):
        return type(self.streaming_context).__name__


class NoExecute(MistJob):
    pass
