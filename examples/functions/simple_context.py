"""The quick start's example: multiplies a list of numbers on Spark (mistpy style)."""
from mistpy.decorators import with_args, arg, list_type, on_spark_context


@with_args(
    arg("numbers", type_hint=list_type(int)),
    arg("multiplier", type_hint=float, default=2),
)
@on_spark_context
def simple_context(sc, numbers, multiplier):
    return sc.parallelize(numbers).map(lambda x: x * multiplier).collect()
