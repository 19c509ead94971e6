# Finds what the Python extension needs, for the AWQMAP_BUILD_PYTHON default: an interpreter
# (Debian's /usr/bin/python3 unless AWQMAP_PYTHON_EXECUTABLE says otherwise), its development
# headers, and pybind11's headers. Sets AWQMAP_PYTHON_FOUND and the AWQMAP_PYTHON_* facts.
if(EXISTS /usr/bin/python3)
  set(_awqmap_default_python /usr/bin/python3)
else()
  find_program(_awqmap_default_python NAMES python3 python)
endif()
set(AWQMAP_PYTHON_EXECUTABLE "${_awqmap_default_python}" CACHE FILEPATH
  "Python interpreter the awqmap extension is built for")

set(AWQMAP_PYTHON_FOUND OFF)
if(AWQMAP_PYTHON_EXECUTABLE)
  # site.getsitepackages() tells where this interpreter looks under a prefix (Debian:
  # lib/python3.X/dist-packages under /usr/local, lib/python3/dist-packages under /usr).
  execute_process(
    COMMAND "${AWQMAP_PYTHON_EXECUTABLE}" -c
"import sysconfig, site, os, sys
print(sysconfig.get_paths()['include'])
print(sysconfig.get_config_var('EXT_SUFFIX') or '.so')
prefix = os.path.realpath(sys.argv[1])
rel = None
for d in (site.getsitepackages() if hasattr(site, 'getsitepackages') else []):
    d = os.path.realpath(d)
    if d.startswith(prefix + os.sep):
        rel = os.path.relpath(d, prefix)
        break
if rel is None:
    rel = os.path.relpath(sysconfig.get_path('platlib', 'posix_prefix', vars={'base': prefix, 'platbase': prefix}), prefix)
print(rel)
print('%d.%d' % sys.version_info[:2])"
            "${CMAKE_INSTALL_PREFIX}"
    OUTPUT_VARIABLE _awqmap_py_out RESULT_VARIABLE _awqmap_py_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_awqmap_py_rc EQUAL 0)
    string(REPLACE "\n" ";" _awqmap_py_out "${_awqmap_py_out}")
    list(GET _awqmap_py_out 0 AWQMAP_PYTHON_INCLUDE_DIR)
    list(GET _awqmap_py_out 1 AWQMAP_PYTHON_EXT_SUFFIX)
    list(GET _awqmap_py_out 2 _awqmap_py_site)
    list(GET _awqmap_py_out 3 AWQMAP_PYTHON_VERSION)
    set(AWQMAP_PYTHON_INSTALL_DIR "${_awqmap_py_site}" CACHE PATH
      "Where the awqmap Python package is installed, relative to the install prefix")
    find_path(AWQMAP_PYBIND11_INCLUDE_DIR pybind11/pybind11.h)
    if(EXISTS "${AWQMAP_PYTHON_INCLUDE_DIR}/Python.h" AND AWQMAP_PYBIND11_INCLUDE_DIR)
      set(AWQMAP_PYTHON_FOUND ON)
    endif()
  endif()
endif()
if(NOT AWQMAP_PYTHON_FOUND)
  message(STATUS "awqmap: Python extension not built by default (need ${AWQMAP_PYTHON_EXECUTABLE} with "
                 "development headers, and pybind11 headers: apt install python3-dev pybind11-dev)")
endif()
