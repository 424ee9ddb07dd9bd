"""Artifact loading as the worker uses it: caching per version, separate namespaces."""

import os
import zipfile

from mist_runtime.loader import Loader


def write_py(path, body, mtime=None):
    path.write_text(body)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return str(path)


def write_zip(path, files, mtime=None):
    with zipfile.ZipFile(path, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return str(path)


def test_py_file_is_imported_once_per_version(tmp_path):
    loader = Loader()
    path = write_py(tmp_path / "job.py", "def main(spark):\n    return 1\n", mtime=1000)
    first = loader.resolve(path, "main")
    assert loader.resolve(path, "main").target is first.target  # cached: not re-run

    write_py(tmp_path / "job.py", "def main(spark):\n    return 2\n", mtime=2000)
    second = loader.resolve(path, "main")
    assert second.target is not first.target and second.target(None) == 2


def test_py_files_do_not_share_a_namespace(tmp_path):
    loader = Loader()
    a = write_py(tmp_path / "a.py", "VALUE = 'a'\ndef main(spark):\n    return VALUE\n")
    b = write_py(tmp_path / "b.py", "VALUE = 'b'\ndef main(spark):\n    return VALUE\n")
    assert loader.resolve(a, "main").target(None) == "a"
    assert loader.resolve(b, "main").target(None) == "b"
    assert loader.resolve(a, "main").target(None) == "a"


def test_archives_with_the_same_package_stay_apart(tmp_path):
    shipped = []
    loader = Loader(on_archive_mounted=shipped.append)
    body = "from samepkg.version import V\ndef main(spark):\n    return V\n"
    v1 = write_zip(tmp_path / "v1.zip", {"samepkg/__init__.py": "", "samepkg/mod.py": body,
                                         "samepkg/version.py": "V = 1\n"})
    v2 = write_zip(tmp_path / "v2.zip", {"samepkg/__init__.py": "", "samepkg/mod.py": body,
                                         "samepkg/version.py": "V = 2\n"})
    assert loader.resolve(v1, "samepkg.mod.main").target(None) == 1
    assert loader.resolve(v2, "samepkg.mod.main").target(None) == 2
    assert loader.resolve(v1, "samepkg.mod.main").target(None) == 1
    assert shipped[:2] == [v1, v2]


def test_replaced_archive_is_imported_anew(tmp_path):
    loader = Loader()
    files = {"replpkg/__init__.py": "", "replpkg/mod.py": "def main(spark):\n    return 'old'\n"}
    path = write_zip(tmp_path / "job.zip", files, mtime=1000)
    first = loader.resolve(path, "replpkg.mod.main")
    assert loader.resolve(path, "replpkg.mod.main").target is first.target

    files["replpkg/mod.py"] = "def main(spark):\n    return 'new'\n"
    write_zip(tmp_path / "job.zip", files, mtime=2000)
    assert loader.resolve(path, "replpkg.mod.main").target(None) == "new"
