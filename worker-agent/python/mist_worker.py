"""Entry point of a Mist PySpark worker; spark-submit runs this file (see README.md).

`spark-submit [--conf k=v ...] mist_worker.py --agent HOST:PORT --worker-id ID
 --max-jobs N [--mode shared|exclusive] [--streaming-duration-s SECONDS]`.
Its folder is sys.path[0] when run as a script, which is how `mist_runtime` and the
`mist` compatibility module are found without an install step.
"""

import sys

if __name__ == "__main__":
    from mist_runtime.worker import main

    main(sys.argv[1:])
