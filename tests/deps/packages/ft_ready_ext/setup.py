from setuptools import Extension, setup

setup(ext_modules=[Extension("ft_ready_ext._speedups", ["ft_ready_ext/_speedups.c"])])
