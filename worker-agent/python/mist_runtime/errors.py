"""The one error type of artifact loading, carrying the kind the inspector reports."""

import os


class LoadError(Exception):
    """An artifact or a name in it that cannot be used, with a message a person can act on.

    `kind` is "artifact" (the file is missing, unreadable, not a valid archive, or importing
    it fails) or "class" (the name is absent from the artifact or is not a Mist function).
    """

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def exception_summary(exc, limit=1000):
    """One line naming an exception and, for code that failed to load, where.

    The inspector's message must be actionable without a traceback: the type and the
    message, plus the file and line of a syntax error or of the innermost frame of
    user code (import machinery frames are skipped: they say nothing to the user).
    """
    text = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    if len(text) > limit:
        text = text[:limit] + "..."
    message = "{}: {}".format(type(exc).__name__, text) if text else type(exc).__name__
    if isinstance(exc, SyntaxError):
        return message  # str() of a SyntaxError already names the file and line
    where = _innermost_user_frame(exc)
    return "{} (at {})".format(message, where) if where else message


def _innermost_user_frame(exc):
    tb = exc.__traceback__
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith("<frozen") and os.sep + "importlib" + os.sep not in filename:
            found = "{}:{}".format(_short_name(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _short_name(filename):
    """The file's name, or its path inside the archive it was imported from."""
    parts = filename.split(os.sep)
    for i, part in enumerate(parts[:-1]):
        if part.endswith((".zip", ".egg", ".whl")):
            return "/".join(parts[i + 1:])
    return os.path.basename(filename)
