"""Functions the benchmark runs (plain-function style): as little work as a job can be."""


def noop(spark):
    """Touches nothing: what a job costs Mist itself."""
    return None


def spark_sum(spark):
    """The smallest real Spark job, the same one ../shared/bench/spark-baseline.sh times."""
    return spark.sparkContext.parallelize(range(1000)).sum()


def boom(spark):
    """Fails at once: gives the benchmark a real failed record to copy into its history."""
    raise RuntimeError("bench: a failing job")
