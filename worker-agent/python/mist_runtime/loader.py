"""Turn (artifact path, className) into a classified Entry, caching what was imported.

Shared by the inspector (one lookup per process) and the worker (many jobs, so imports
are cached per artifact version: a second job of the same file does not re-run the
module's top level, and a replaced file, seen by its mtime and size, is imported anew).

Namespaces are kept apart per artifact: a `.py` file runs in its own module object that
is not left in `sys.modules`, so two files that both define `main` never see each other,
and cloudpickle ships their functions to executors by value. Archives are real packages
on `sys.path`; mounting one evicts same-named modules another archive (or an older
version of the same one) had imported.
"""

import difflib
import importlib
import itertools
import os
import sys
import threading
import types
import zipfile
import zipimport

from mist_runtime import entry as entries
from mist_runtime.errors import LoadError, exception_summary

ARCHIVE_EXTENSIONS = (".zip", ".egg", ".whl")
MAX_CANDIDATES = 10
_module_numbers = itertools.count(1)


class Loader:
    """Resolves entry points. `on_archive_mounted(path)` lets the worker ship an archive to
    executors (`SparkContext.addPyFile`); it is called whenever an archive is (re)mounted
    and is expected to ignore paths it already shipped."""

    def __init__(self, on_archive_mounted=None):
        self._lock = threading.RLock()  # imports mutate sys.path / sys.modules
        self._py_modules = {}  # path -> (version, module)
        self._archives = {}  # path -> (version, module names in it)
        self._owners = {}  # top-level package name -> (archive path, version) it came from
        self._on_archive_mounted = on_archive_mounted

    def resolve(self, path, class_name):
        path = os.path.abspath(path)
        extension = os.path.splitext(path)[1].lower()
        if extension not in (".py", ".jar") + ARCHIVE_EXTENSIONS:
            raise LoadError("artifact", "unsupported artifact type {!r} of {}; expected .py, "
                                        ".zip, .egg, .whl or .jar".format(extension, path))
        version = _version(path)
        with self._lock:
            if extension == ".jar":
                return _resolve_jar(path, class_name)
            if extension == ".py":
                return self._resolve_in_file(path, version, class_name)
            return self._resolve_in_archive(path, version, class_name)

    # -- .py files --------------------------------------------------------------------

    def _resolve_in_file(self, path, version, class_name):
        cached = self._py_modules.get(path)
        if cached is not None and cached[0] == version:
            module = cached[1]
        else:
            module = _exec_file(path)
            self._py_modules[path] = (version, module)
        where = os.path.basename(path)
        namespace = vars(module)
        if class_name not in namespace:
            raise LoadError("class", "{} is not defined at the top level of {}{}".format(
                class_name, where, _suggest(class_name, _defined_names(module))))
        return entries.classify(namespace[class_name], class_name, where)

    # -- .zip / .egg / .whl -----------------------------------------------------------

    def _resolve_in_archive(self, path, version, class_name):
        where = os.path.basename(path)
        known = self._archives.get(path)
        modules = known[1] if known is not None and known[0] == version else _archive_modules(path)
        self._archives[path] = (version, modules)
        module_name, _, attribute = class_name.rpartition(".")
        if not module_name:
            raise LoadError("class", "className for a {} artifact is module.function, got {!r}{}".format(
                os.path.splitext(path)[1], class_name, _suggest(class_name, sorted(modules), "modules")))
        if module_name not in modules:
            raise LoadError("class", "module {} is not in {}{}".format(
                module_name, where, _suggest(module_name, sorted(modules), "modules")))
        self._mount(path, modules)
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:  # user code: anything, SystemExit included
            raise LoadError("artifact", "importing {} from {} failed: {}".format(
                module_name, where, exception_summary(exc)))
        if not hasattr(module, attribute):
            defined = ["{}.{}".format(module_name, n) for n in _defined_names(module)]
            raise LoadError("class", "{} is not defined in module {} of {}{}".format(
                attribute, module_name, where, _suggest(class_name, defined)))
        return entries.classify(getattr(module, attribute), class_name, where)

    def _mount(self, path, modules):
        """Make `path` the archive its packages are imported from.

        Called on every lookup: cheap when this archive (at this version) already owns
        its top-level names; otherwise the previous owner's modules are evicted.
        """
        tops = {m.split(".")[0] for m in modules}
        current = all(self._owners.get(top) == (path, self._archives[path][0]) for top in tops)
        if current and path in sys.path:
            return
        for name in list(sys.modules):
            module = sys.modules.get(name)
            from_other_archive = name.split(".")[0] in tops and _from_archive(module)
            if from_other_archive or _comes_from(module, path):
                del sys.modules[name]
        sys.path_importer_cache.pop(path, None)
        getattr(zipimport, "_zip_directory_cache", {}).pop(path, None)  # else a stale listing
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)
        importlib.invalidate_caches()
        for top in tops:
            self._owners[top] = (path, self._archives[path][0])
        if self._on_archive_mounted is not None:
            self._on_archive_mounted(path)


def _version(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise LoadError("artifact", "artifact {} does not exist".format(path))
    except OSError as exc:
        raise LoadError("artifact", "cannot read artifact {}: {}".format(path, exc.strerror or exc))
    if not os.path.isfile(path):
        raise LoadError("artifact", "artifact {} is not a regular file".format(path))
    return (st.st_mtime_ns, st.st_size)


def _exec_file(path):
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        raise LoadError("artifact", "cannot read artifact {}: {}".format(path, exc.strerror or exc))
    where = os.path.basename(path)
    # A name nobody imports: registered only while the top level runs (dataclasses and
    # pickle look modules up there), then removed so cloudpickle ships by value.
    name = "mist_artifact_{}".format(next(_module_numbers))
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    try:
        code = compile(source, path, "exec")
        exec(code, module.__dict__)
    except BaseException as exc:  # user code: anything, SystemExit included
        raise LoadError("artifact", "loading {} failed: {}".format(where, exception_summary(exc)))
    finally:
        sys.modules.pop(name, None)
    return module


def _archive_modules(path):
    """Importable module names in an archive, read from its entries without importing."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LoadError("artifact", "{} is not a valid {} archive: {}".format(
            os.path.basename(path), os.path.splitext(path)[1], exc))
    modules = set()
    for name in names:
        stem, ext = os.path.splitext(name)
        if ext not in (".py", ".pyc") or "-" in stem or stem.startswith(("EGG-INFO", "__pycache__")):
            continue
        parts = stem.split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            modules.add(".".join(parts))
            for i in range(1, len(parts)):  # packages without __init__ are importable too
                modules.add(".".join(parts[:i]))
    return modules


def _resolve_jar(path, class_name):
    try:
        with zipfile.ZipFile(path) as jar:
            names = jar.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LoadError("artifact", "{} is not a valid jar: {}".format(os.path.basename(path), exc))
    if class_name.replace(".", "/") + ".class" in names:
        return entries.jar_entry(class_name)
    classes = [n[:-len(".class")].replace("/", ".") for n in names
               if n.endswith(".class") and "$" not in n and not n.startswith("META-INF/")
               and not n.endswith("module-info.class")]
    raise LoadError("class", "class {} is not in {}{}".format(
        class_name, os.path.basename(path), _suggest(class_name, classes, "classes")))


def _from_archive(module):
    """Loaded by zipimport, i.e. from some archive: only such modules are ever evicted,
    so an archive that happens to contain `json.py` cannot unload the standard library."""
    spec = getattr(module, "__spec__", None)
    return isinstance(getattr(spec, "loader", None), zipimport.zipimporter)


def _comes_from(module, path):
    origin = getattr(module, "__file__", None) or ""
    return origin.startswith(path + os.sep)


def _defined_names(module):
    """Names a user could mean: entry points defined in the module (not imported into it)."""
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or not entries.is_candidate(value):
            continue
        if entries.is_mistpy_function(value) or getattr(value, "__module__", None) == module.__name__:
            names.append(name)
    return names


def _suggest(wanted, names, what="candidates"):
    """', <what>: a, b, c' with the closest names first, or '' when there are none."""
    if not names:
        return "; it has no {}".format("functions or MistJob classes" if what == "candidates" else what)
    close = difflib.get_close_matches(wanted, names, n=MAX_CANDIDATES, cutoff=0.5)
    ordered = close + [n for n in names if n not in close]
    shown = ordered[:MAX_CANDIDATES]
    more = " (and {} more)".format(len(names) - len(shown)) if len(names) > len(shown) else ""
    return "; {} found: {}{}".format(what, ", ".join(shown), more)
