"""What a loaded object is as a Mist function: its style, arguments, tags, Spark object.

The inspector and the worker both classify through here, so the signature an endpoint
advertises is exactly the one the worker binds arguments against.
"""

import inspect

from mist_runtime import signature
from mist_runtime.errors import LoadError

# mistpy's `type_choice` values; plain functions use `SESSION`, MistJob classes `MIST_JOB`.
CONTEXT = "sp_context"
SESSION = "sp_session"
SQL_CONTEXT = "sql_context"
HIVE_CONTEXT = "hive_context"
HIVE_SESSION = "hive_session"
STREAMING = "streaming"
MIST_JOB = "mist_job"

# Old-Mist mixins are recognised by class name, so a user's own copy of
# `mist/mist_job.py` shipped inside an artifact is treated like ours.
_MIXIN_TAGS = {
    "WithSQLSupport": ("sql",),
    "WithHiveSupport": ("hive", "sql"),
    "WithStreamingSupport": ("streaming",),
}
_BASE_CLASS_NAMES = ("MistJob", "ContextSupport")


class Param:
    """One user argument. `optional` arguments may be left out of a call; `default` fills them."""

    __slots__ = ("name", "hint", "optional", "default")

    def __init__(self, name, hint, optional, default=None):
        self.name = name
        self.hint = hint
        self.optional = optional
        self.default = default

    def descriptor(self):
        described = signature.describe(self.hint)
        return signature.optional(described) if self.optional else described


class Entry:
    """A classified entry point. `target` is the function or class to call."""

    def __init__(self, style, target, name, params=(), accepts_any_args=False,
                 tags=(), spark_arg=SESSION, lang="python"):
        self.style = style  # "mistpy" | "mist_job" | "function" | "jar"
        self.target = target
        self.name = name
        self.params = list(params)
        self.accepts_any_args = accepts_any_args
        self.tags = sorted(set(tags))
        self.spark_arg = spark_arg
        self.lang = lang

    def to_json(self):
        """The inspector's answer; argument order is the declared order."""
        return {
            "lang": self.lang,
            "tags": self.tags,
            "execute": {p.name: p.descriptor() for p in self.params},
            "acceptsAnyArgs": self.accepts_any_args,
        }


def jar_entry(class_name):
    return Entry("jar", None, class_name, accepts_any_args=True, spark_arg=None, lang="java")


def is_candidate(obj):
    """Whether `obj` could be named as an entry point (used to suggest names)."""
    return is_mistpy_function(obj) or is_mist_job_class(obj) or inspect.isfunction(obj)


def is_mistpy_function(obj):
    return callable(obj) and hasattr(obj, "type_choice") and hasattr(obj, "fn_tags")


def is_mist_job_class(obj):
    return inspect.isclass(obj) and any(k.__name__ == "MistJob" for k in obj.__mro__[1:])


def classify(obj, name, where):
    """The Entry for `obj`, or a LoadError of kind "class" saying why it cannot run."""
    if is_mistpy_function(obj):
        return _mistpy_entry(obj, name)
    if inspect.isclass(obj):
        if is_mist_job_class(obj):
            return _mist_job_entry(obj, name, where)
        raise LoadError("class", "{} in {} is a class that does not subclass MistJob".format(name, where))
    if inspect.isfunction(obj):
        return _function_entry(obj, name, where)
    raise LoadError(
        "class",
        "{} in {} is {}, not a function, a MistJob class or a mistpy function".format(
            name, where, _a_type_name(obj)),
    )


def _mistpy_entry(fn, name):
    args_def = _find_along_wrappers(fn, "args_def") or ()
    params = []
    for arg in args_def:
        is_optional = bool(getattr(arg, "is_optional", False))
        params.append(Param(arg.name, getattr(arg, "type_hint", None), is_optional,
                            getattr(arg, "default", None)))
    accepts_any = _has_var_keyword(_innermost_function(fn))
    return Entry("mistpy", fn, name, params, accepts_any, tags=fn.fn_tags or (),
                 spark_arg=fn.type_choice)


def _mist_job_entry(cls, name, where):
    execute = inspect.getattr_static(cls, "execute", None)
    owner = next((k for k in cls.__mro__ if "execute" in vars(k)), None)
    if execute is None or owner is None or owner.__name__ in _BASE_CLASS_NAMES:
        raise LoadError("class", "{} in {} subclasses MistJob but does not define execute".format(name, where))
    if not inspect.isfunction(execute):
        raise LoadError("class", "{}.execute in {} must be a plain method".format(name, where))
    params, accepts_any = _read_parameters(execute, "{}.execute".format(name), where)
    tags = set()
    for klass in cls.__mro__:
        tags.update(_MIXIN_TAGS.get(klass.__name__, ()))
    return Entry("mist_job", cls, name, params, accepts_any, tags=tags, spark_arg=MIST_JOB)


def _function_entry(fn, name, where):
    params, accepts_any = _read_parameters(fn, name, where)
    return Entry("function", fn, name, params, accepts_any, tags=(), spark_arg=SESSION)


def _read_parameters(fn, name, where):
    """User arguments of `fn` after its first parameter (the SparkSession, or `self`).

    Keyword-passable parameters become arguments; `**kwargs` makes the function accept
    any; `*args` absorbs nothing Mist passes and is skipped.
    """
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError) as exc:
        raise LoadError("class", "cannot read the parameters of {} in {}: {}".format(name, where, exc))
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not parameters or parameters[0].kind not in positional + (inspect.Parameter.VAR_POSITIONAL,):
        raise LoadError("class", "{} in {} takes no positional parameter; its first parameter "
                                 "receives the Spark object".format(name, where))
    if parameters[0].kind != inspect.Parameter.VAR_POSITIONAL:
        parameters = parameters[1:]
    hints = signature.resolved_hints(fn)
    params, accepts_any = [], False
    for p in parameters:
        if p.kind == inspect.Parameter.VAR_KEYWORD:
            accepts_any = True
        elif p.kind == inspect.Parameter.VAR_POSITIONAL:
            continue
        elif p.kind == inspect.Parameter.POSITIONAL_ONLY:
            raise LoadError("class", "parameter {} of {} in {} is positional-only; Mist passes "
                                     "arguments by name".format(p.name, name, where))
        else:
            has_default = p.default is not inspect.Parameter.empty
            hint = hints.get(p.name)
            optional = has_default or signature.describe(hint).get("type") == "MOption"
            params.append(Param(p.name, hint, optional, p.default if has_default else None))
    return params, accepts_any


def _wrapped_functions(fn):
    """`fn`, then the functions it closes over, outermost first.

    mistpy's decorators do not use functools.wraps, so the user's function (and, when
    decorators are stacked in the other order, `args_def`) is only reachable through
    the wrappers' closures.
    """
    current = fn
    while current is not None:
        yield current
        if not str(getattr(current, "__module__", "")).startswith("mistpy"):
            return  # only mistpy's own wrappers are looked through, never user closures
        cells = getattr(current, "__closure__", None) or ()
        inner = [c.cell_contents for c in cells if _cell_is_function(c)]
        current = inner[0] if len(inner) == 1 else None


def _cell_is_function(cell):
    try:
        return inspect.isfunction(cell.cell_contents)
    except ValueError:  # an empty cell
        return False


def _find_along_wrappers(fn, attribute):
    for f in _wrapped_functions(fn):
        if hasattr(f, attribute):
            return getattr(f, attribute)
    return None


def _innermost_function(fn):
    last = fn
    for f in _wrapped_functions(fn):
        last = f
    return last


def _has_var_keyword(fn):
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters)


def _a_type_name(obj):
    if inspect.ismodule(obj):
        return "a module"
    type_name = type(obj).__name__
    article = "an" if type_name[:1].lower() in "aeiou" else "a"
    return "{} {}".format(article, type_name)
