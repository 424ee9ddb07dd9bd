"""CLI: print the signature of a Mist function as one JSON line (see README.md).

`python mist_inspect.py <artifact_path> <className>`; exit 0 with
{"lang","tags","execute","acceptsAnyArgs"}, or exit 2 with {"error","kind"}.
Run as a script from this directory: its folder is sys.path[0], which is how
`mist_runtime` and the `mist` compatibility module are found without installing.
"""

import os
import sys

if __name__ == "__main__":
    from mist_runtime.inspector import main

    code = main(sys.argv[1:])
    sys.stderr.flush()
    # os._exit: threads user code started at import must not keep the inspector alive.
    os._exit(code)
