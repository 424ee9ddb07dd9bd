"""Type descriptors of the API's `execute` field, computed from Python type hints.

The API validates job arguments against these descriptors before a job is queued, so
the mapping errs towards `MAny`: a hint we cannot read must never make a valid call
look invalid. Only the shapes a JSON value can take are described; anything else
(numpy types, dataclasses, unions of several types) is `MAny`.
"""

import collections.abc
import inspect
import types
import typing

ANY = {"type": "MAny"}

_SCALARS = (
    # bool before int: bool is a subclass of int and must not read as MInt.
    (bool, "MBoolean"),
    (int, "MInt"),
    (float, "MDouble"),
    (str, "MString"),
)

_LIST_ORIGINS = (
    list,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Collection,
    collections.abc.Iterable,
)
_MAP_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)

_UNION_TYPES = (typing.Union,)
if hasattr(types, "UnionType"):  # `int | None` on Python 3.10+
    _UNION_TYPES = _UNION_TYPES + (types.UnionType,)
_ANNOTATED = getattr(typing, "Annotated", None)  # Python 3.9+


def describe(hint):
    """The descriptor of one type hint (a Python type, a typing form or a mistpy type)."""
    if hint is None or hint is inspect.Parameter.empty or hint is typing.Any:
        return dict(ANY)
    if is_mistpy_complex_type(hint):
        return _describe_mistpy_complex(hint)

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if _ANNOTATED is not None and origin is _ANNOTATED:
        return describe(args[0])
    if origin in _UNION_TYPES:
        return _describe_union(args)
    if origin in _LIST_ORIGINS:
        return _list_of(describe(args[0]) if args else dict(ANY))
    if origin in _MAP_ORIGINS:
        if len(args) == 2:
            return _map_of(describe(args[0]), describe(args[1]))
        return _map_of(dict(ANY), dict(ANY))

    if isinstance(hint, type):
        for python_type, name in _SCALARS:
            if issubclass(hint, python_type):
                return {"type": name}
        if hint in _LIST_ORIGINS or issubclass(hint, list):
            return _list_of(dict(ANY))
        if hint in _MAP_ORIGINS or issubclass(hint, dict):
            return _map_of(dict(ANY), dict(ANY))
    return dict(ANY)


def optional(descriptor):
    """`MOption` of a descriptor, without wrapping one that already is."""
    if descriptor.get("type") == "MOption":
        return descriptor
    return {"type": "MOption", "args": [descriptor]}


def is_mistpy_complex_type(hint):
    """mistpy's `list_type(T)`: its class is private, so it is recognised by shape."""
    return hasattr(hint, "container_type") and hasattr(hint, "main_type")


def _describe_mistpy_complex(hint):
    container = hint.container_type
    if isinstance(container, type) and issubclass(container, list):
        return _list_of(describe(hint.main_type))
    return dict(ANY)


def _describe_union(args):
    present = [a for a in args if a is not type(None)]
    if len(present) == len(args):
        return dict(ANY)  # a union of several types has no single JSON shape
    inner = describe(present[0]) if len(present) == 1 else dict(ANY)
    return optional(inner)


def _list_of(item):
    return {"type": "MList", "args": [item]}


def _map_of(key, value):
    return {"type": "MMap", "args": [key, value]}


def resolved_hints(function):
    """Parameter name -> hint, with string annotations evaluated where possible.

    `typing.get_type_hints` fails as a whole on one unresolvable forward reference;
    falling back per parameter keeps the others (the unresolvable one becomes MAny).
    """
    try:
        return typing.get_type_hints(function)
    except Exception:
        pass
    hints = {}
    namespace = getattr(function, "__globals__", {})
    for name, annotation in getattr(function, "__annotations__", {}).items():
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, dict(namespace))  # noqa: S307 - the user's own hint
            except Exception:
                annotation = None
        hints[name] = annotation
    return hints
