"""The one compiled part of EIKIS: the body walk of canonical XML extracts (pipeline/sources/_canonscan.c).

Everything else is in pyproject.toml. The extension is optional: without a C compiler the install still succeeds
and canonical files take the exact (slower) path; `pipeline.sources.xmlcanon` warns once when that happens.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("pipeline.sources._canonscan", ["pipeline/sources/_canonscan.c"], optional=True,
                             extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror=vla"])])
