"""Plain style inside a package; `triple` runs on executors, imported from the archive."""

from typing import List

from pkg.helpers import triple


def fn(spark, numbers: List[int], verbose: bool = False):
    return spark.sparkContext.parallelize(numbers).map(triple).collect()
