"""Builds awqmap's C++ core, its plugins and the awqmap._core extension with CMake, for the
Python that runs this file, and puts them into the package:

    awqmap/_core.<abi>.so              (RPATH $ORIGIN/lib)
    awqmap/lib/libawqmap.so.0          (the core)
    awqmap/lib/awqmap/plugins/*.so     (the shipped plugins, found next to the core)

Use `pip install --no-build-isolation .` (Debian: python3-setuptools, python3-wheel, cmake,
g++, pybind11-dev, python3-dev and the libraries of the README). AWQMAP_CMAKE_ARGS adds
configure options; AWQMAP_BUILD_JOBS sets the parallel build level (default 2).
"""
import glob
import os
import shlex
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        target_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        build = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        stage = os.path.abspath(os.path.join(self.build_temp, "stage"))
        shutil.rmtree(stage, ignore_errors=True)
        os.makedirs(build, exist_ok=True)
        configure = ["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                     "-DAWQMAP_BUILD_TESTS=OFF", "-DAWQMAP_BUILD_BENCHMARKS=OFF", "-DAWQMAP_BUILD_PYTHON=ON",
                     f"-DAWQMAP_PYTHON_EXECUTABLE={sys.executable}", "-DCMAKE_INSTALL_LIBDIR=lib",
                     f"-DAWQMAP_PYTHON_INSTALL_DIR={stage}/python", "-DAWQMAP_PYTHON_RPATH=$ORIGIN/lib",
                     f"-DCMAKE_INSTALL_PREFIX={stage}"]
        configure += shlex.split(os.environ.get("AWQMAP_CMAKE_ARGS", ""))
        subprocess.check_call(configure)
        subprocess.check_call(["cmake", "--build", build, "-j", os.environ.get("AWQMAP_BUILD_JOBS", "2")])
        subprocess.check_call(["cmake", "--install", build])
        pkg = target_dir  # the directory of awqmap/_core*.so, i.e. the package itself
        os.makedirs(os.path.join(pkg, "lib", "awqmap", "plugins"), exist_ok=True)
        ext_files = glob.glob(os.path.join(stage, "python", "awqmap", "_core*.so"))
        if len(ext_files) != 1:
            raise RuntimeError(f"expected one awqmap._core extension in {stage}/python/awqmap, found {ext_files}")
        shutil.copy2(ext_files[0], self.get_ext_fullpath(ext.name))
        for lib in glob.glob(os.path.join(stage, "lib", "libawqmap.so*")):
            if not os.path.islink(lib):
                # The SONAME the extension needs (libawqmap.so.0), as a plain file.
                soname = subprocess.run(["objdump", "-p", lib], capture_output=True, text=True).stdout
                name = next((l.split()[1] for l in soname.splitlines() if l.strip().startswith("SONAME")),
                            os.path.basename(lib))
                shutil.copy2(lib, os.path.join(pkg, "lib", name))
        for plugin in glob.glob(os.path.join(stage, "lib", "awqmap", "plugins", "*.so")):
            shutil.copy2(plugin, os.path.join(pkg, "lib", "awqmap", "plugins"))


setup(ext_modules=[CMakeExtension("awqmap._core")], cmdclass={"build_ext": CMakeBuild})
