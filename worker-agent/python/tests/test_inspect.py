"""mist_inspect.py, run as a subprocess exactly as the agent runs it."""

import zipfile

import pytest

from conftest import function_file, run_inspect

LIST_OF_INT = {"type": "MList", "args": [{"type": "MInt"}]}
OPTIONAL_DOUBLE = {"type": "MOption", "args": [{"type": "MDouble"}]}


def ok(artifact, class_name):
    code, answer, stderr = run_inspect(artifact, class_name)
    assert code == 0, (answer, stderr)
    return answer


def failure(artifact, class_name):
    code, answer, _stderr = run_inspect(artifact, class_name)
    assert code == 2, answer
    assert set(answer) == {"error", "kind"}, answer
    assert "Traceback" not in answer["error"]
    return answer


def test_mistpy_function():
    assert ok(function_file("simple_context.py"), "simple_context") == {
        "lang": "python",
        "tags": [],
        "execute": {"numbers": LIST_OF_INT, "multiplier": OPTIONAL_DOUBLE},
        "acceptsAnyArgs": False,
    }


@pytest.mark.parametrize("name, tags, execute, any_args", [
    ("session_fn", ["sql"], {}, False),
    ("sql_fn", ["sql"], {"query": {"type": "MString"},
                         "limit": {"type": "MOption", "args": [{"type": "MInt"}]}}, False),
    ("hive_session_fn", ["hive", "sql"], {}, False),
    ("hive_context_fn", ["hive", "sql"], {}, False),
    ("streaming_fn", ["streaming"], {}, False),
    ("any_args_fn", ["sql"], {}, True),
])
def test_mistpy_tags_and_optional_args(name, tags, execute, any_args):
    assert ok(function_file("mistpy_variants.py"), name) == {
        "lang": "python", "tags": tags, "execute": execute, "acceptsAnyArgs": any_args}


def test_mist_job_class():
    assert ok(function_file("mist_job_class.py"), "MultiplyJob") == {
        "lang": "python",
        "tags": ["sql"],
        "execute": {"numbers": LIST_OF_INT, "multiplier": OPTIONAL_DOUBLE},
        "acceptsAnyArgs": False,
    }


@pytest.mark.parametrize("name, tags, execute, any_args", [
    ("UntypedJob", [], {"numbers": {"type": "MAny"},
                        "multiplier": {"type": "MOption", "args": [{"type": "MAny"}]}}, False),
    ("HiveJob", ["hive", "sql"], {}, False),
    ("StreamingJob", ["streaming"], {}, True),
])
def test_mist_job_variants(name, tags, execute, any_args):
    assert ok(function_file("mist_job_class.py"), name) == {
        "lang": "python", "tags": tags, "execute": execute, "acceptsAnyArgs": any_args}


def test_plain_function():
    assert ok(function_file("plain_function.py"), "multiply") == {
        "lang": "python",
        "tags": [],
        "execute": {"numbers": LIST_OF_INT, "multiplier": OPTIONAL_DOUBLE},
        "acceptsAnyArgs": False,
    }


def test_plain_function_with_kwargs_accepts_any_args():
    assert ok(function_file("plain_function.py"), "greet") == {
        "lang": "python", "tags": [], "execute": {"name": {"type": "MString"}},
        "acceptsAnyArgs": True}


def test_type_hints_map_to_descriptors_in_declared_order():
    answer = ok(function_file("plain_function.py"), "typed")
    any_ = {"type": "MAny"}

    def option(d):
        return {"type": "MOption", "args": [d]}

    expected = {
        "a": {"type": "MBoolean"},
        "b": {"type": "MInt"},
        "c": {"type": "MDouble"},
        "d": {"type": "MString"},
        "e": LIST_OF_INT,
        "f": {"type": "MMap", "args": [{"type": "MString"}, {"type": "MInt"}]},
        "g": option({"type": "MInt"}),
        "h": {"type": "MMap", "args": [any_, any_]},
        "i": {"type": "MList", "args": [any_]},
        "j": any_,
        "k": any_,
        "l": option({"type": "MList", "args": [{"type": "MString"}]}),
        "m": option({"type": "MInt"}),
        "n": option(any_),  # an unresolvable string hint is MAny, the others still read
        "o": option({"type": "MInt"}),
    }
    assert answer["execute"] == expected
    assert list(answer["execute"]) == list(expected)


def test_package_in_zip(package_zip):
    assert ok(package_zip, "pkg.mod.fn") == {
        "lang": "python",
        "tags": [],
        "execute": {"numbers": LIST_OF_INT,
                    "verbose": {"type": "MOption", "args": [{"type": "MBoolean"}]}},
        "acceptsAnyArgs": False,
    }


def test_package_in_zip_unknown_module_lists_modules(package_zip):
    answer = failure(package_zip, "pkg.nope.fn")
    assert answer["kind"] == "class"
    assert "module pkg.nope is not in pkg.zip" in answer["error"]
    assert "pkg.mod" in answer["error"] and "pkg.helpers" in answer["error"]


def test_package_in_zip_unknown_function_lists_candidates(package_zip):
    answer = failure(package_zip, "pkg.mod.fm")
    assert answer["kind"] == "class"
    assert "fm is not defined in module pkg.mod of pkg.zip" in answer["error"]
    assert "pkg.mod.fn" in answer["error"]


def test_jar(tmp_path):
    jar = tmp_path / "app.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        archive.writestr("com/example/SparkApp.class", b"\xca\xfe\xba\xbe")
        archive.writestr("com/example/SparkApp$.class", b"\xca\xfe\xba\xbe")
    assert ok(str(jar), "com.example.SparkApp") == {
        "lang": "java", "tags": [], "execute": {}, "acceptsAnyArgs": True}
    answer = failure(str(jar), "com.example.SparkAp")
    assert answer["kind"] == "class"
    assert "class com.example.SparkAp is not in app.jar" in answer["error"]
    assert "com.example.SparkApp" in answer["error"]


def test_missing_file(tmp_path):
    answer = failure(str(tmp_path / "nope.py"), "f")
    assert answer["kind"] == "artifact"
    assert "does not exist" in answer["error"]


def test_missing_name_lists_candidates():
    answer = failure(function_file("plain_function.py"), "multiplx")
    assert answer == {
        "kind": "class",
        "error": "multiplx is not defined at the top level of plain_function.py; "
                 "candidates found: multiply, greet, typed, no_spark",
    }


@pytest.mark.parametrize("name, says", [
    ("NUMBER", "NUMBER in plain_function.py is an int, not a function, a MistJob class or a mistpy function"),
    ("NotAJob", "NotAJob in plain_function.py is a class that does not subclass MistJob"),
    ("no_spark", "its first parameter receives the Spark object"),
])
def test_name_that_is_not_a_function(name, says):
    answer = failure(function_file("plain_function.py"), name)
    assert answer["kind"] == "class"
    assert says in answer["error"]


def test_mist_job_without_execute():
    answer = failure(function_file("mist_job_class.py"), "NoExecute")
    assert answer["kind"] == "class"
    assert "does not define execute" in answer["error"]


def test_syntax_error(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def f(spark):\n    return (\n\ndef g(:\n")
    answer = failure(str(broken), "f")
    assert answer["kind"] == "artifact"
    assert answer["error"].startswith("loading broken.py failed: SyntaxError: ")
    assert "line" in answer["error"]


def test_exception_at_import_names_type_message_and_line(tmp_path):
    bad = tmp_path / "bad_import.py"
    bad.write_text("import pyspark\nx = 1\nraise RuntimeError('no config here')\n")
    answer = failure(str(bad), "f")
    assert answer == {"kind": "artifact", "error": "loading bad_import.py failed: "
                      "RuntimeError: no config here (at bad_import.py:3)"}


def test_missing_dependency_is_an_artifact_error(tmp_path):
    bad = tmp_path / "needs_dep.py"
    bad.write_text("import not_installed_anywhere\n")
    answer = failure(str(bad), "f")
    assert answer["kind"] == "artifact"
    assert "ModuleNotFoundError: No module named 'not_installed_anywhere'" in answer["error"]


def test_user_output_at_import_stays_off_stdout(tmp_path):
    noisy = tmp_path / "noisy.py"
    noisy.write_text("import os, sys\nprint('hi from import')\nos.write(1, b'raw fd write\\n')\n"
                     "def f(spark, x: int):\n    return x\n")
    code, answer, stderr = run_inspect(str(noisy), "f")
    assert code == 0 and answer["execute"] == {"x": {"type": "MInt"}}
    assert "hi from import" in stderr and "raw fd write" in stderr


def test_sys_exit_at_import_is_reported(tmp_path):
    quitter = tmp_path / "quitter.py"
    quitter.write_text("import sys\nsys.exit(3)\n")
    answer = failure(str(quitter), "f")
    assert answer["kind"] == "artifact"
    assert "SystemExit: 3" in answer["error"]


def test_bad_archive(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    answer = failure(str(fake), "pkg.mod.fn")
    assert answer["kind"] == "artifact"
    assert "fake.zip is not a valid .zip archive" in answer["error"]


def test_unsupported_extension(tmp_path):
    other = tmp_path / "job.txt"
    other.write_text("")
    answer = failure(str(other), "f")
    assert answer["kind"] == "artifact"
    assert "unsupported artifact type '.txt'" in answer["error"]
