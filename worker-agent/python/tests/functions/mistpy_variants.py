"""mistpy style, every Spark object: each function returns the type of what it received."""

from mistpy.decorators import (arg, on_hive_context, on_hive_session, on_spark_session,
                               on_sql_context, on_streaming_context, opt_arg, with_args)


@on_spark_session
def session_fn(spark):
    return type(spark).__name__


@with_args(arg("query", type_hint=str), opt_arg("limit", type_hint=int))
@on_sql_context
def sql_fn(sql_context, query, limit):
    return [type(sql_context).__name__, query, limit]


@on_hive_session
def hive_session_fn(spark):
    return [type(spark).__name__, spark.conf.get("spark.sql.catalogImplementation")]


@on_hive_context
def hive_context_fn(hive):
    return type(hive).__name__


@on_streaming_context
def streaming_fn(ssc):
    return [type(ssc).__name__, ssc.sparkContext.appName.startswith("mist-")]


@on_spark_session
def any_args_fn(spark, **kwargs):
    return sorted(kwargs)
