"""Functions the end-to-end job tests run (plain-function style)."""
import time


def nap(spark, seconds: float = 1.0):
    """Sleeps on the driver: for ordering and overlap tests."""
    time.sleep(seconds)
    return seconds


def spark_nap(spark, seconds: float = 60.0):
    """Sleeps inside Spark tasks: a cancel stops it through its job group."""
    sc = spark.sparkContext
    sc.parallelize(range(2), 2).map(lambda x: time.sleep(seconds)).collect()
    return "woke up"


def stubborn(spark, seconds: float = 3600.0):
    """Busy on the driver and never touches Spark, so a cancel cannot reach it."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        time.sleep(0.05)
    return "done"


def shout(spark, text: str):
    print("shouting", text)
    return text.upper()


def quick(spark):
    return spark.sparkContext.parallelize(range(10)).sum()


def boom(spark):
    raise RuntimeError("the function gave up")


def non_json(spark):
    return {"a set": {1, 2}}
