"""Jobs exercising the worker's reporting: output, failures, cancel."""

import logging
import sys
import time


def chatty(spark, who: str = "world"):
    print("hello", who)
    print("partial", end="")
    print(" line")
    print("to stderr", file=sys.stderr)
    logging.getLogger("user").warning("careful %s", who)
    logging.getLogger("user").info("fyi")
    return "ok"


def non_json(spark):
    return {"numbers": {1, 2, 3}}


def not_a_number(spark):
    return float("nan")


def boom(spark, message: str = "boom"):
    helper_that_fails(message)


def helper_that_fails(message):
    raise ValueError(message)


def sleepy(spark):
    sc = spark.sparkContext
    return sc.parallelize(range(4), 4).map(lambda x: time.sleep(60)).collect()


def quick(spark):
    return spark.range(3).count()
