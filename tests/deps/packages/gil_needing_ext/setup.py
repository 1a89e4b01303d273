from setuptools import Extension, setup

setup(ext_modules=[Extension("gil_needing_ext._legacy", ["gil_needing_ext/_legacy.c"])])
