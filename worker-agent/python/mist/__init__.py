"""Compatibility package for functions written for the original Mist.

Old jobs start with `from mist.mist_job import *`; this package is found because the
worker and the inspector run as scripts from the folder that contains it.
"""
