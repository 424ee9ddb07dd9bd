"""The Python half of a Mist worker: reading function signatures and running jobs.

Kept free of install steps: `mist_inspect.py` and `mist_worker.py` put this directory
on `sys.path` simply by being run as scripts from it, so the folder can be copied to a
Spark host as is. Nothing here imports pyspark at module level, so the inspector stays
fast and never starts a JVM.
"""
