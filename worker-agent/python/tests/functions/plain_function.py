"""Plain style: the SparkSession first, then arguments read from type hints."""

from typing import Any, Dict, List, Optional

NUMBER = 5


class NotAJob:
    pass


def multiply(spark, numbers: list[int], multiplier: float = 2.0):
    return spark.sparkContext.parallelize(numbers).map(lambda x: x * multiplier).collect()


def greet(spark, name: str, **kwargs):
    return {"hello": name, "extra": sorted(kwargs)}


def typed(spark, a: bool, b: int, c: float, d: str, e: List[int], f: Dict[str, int],
          g: Optional[int], h: dict, i: list, j, k: Any, l: Optional[List[str]] = None,
          m: "int" = 3, n: "Undefined" = None, o: "int | None" = None):
    return None


def no_spark():
    return 1
