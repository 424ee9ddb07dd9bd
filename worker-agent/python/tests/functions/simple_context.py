"""mistpy style: decorated function, the SparkContext first, arguments by name."""

from mistpy.decorators import arg, list_type, on_spark_context, with_args


@with_args(
    arg("numbers", type_hint=list_type(int)),
    arg("multiplier", type_hint=float, default=2),
)
@on_spark_context
def simple_context(sc, numbers, multiplier):
    return sc.parallelize(numbers).map(lambda x: x * multiplier).collect()
