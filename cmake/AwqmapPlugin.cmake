# awqmap_add_plugin(NAME SOURCES src... [OUTPUT_DIRECTORY dir] [INSTALL])
# builds an awqmap plugin: a module library named awqmap-<NAME>.so, linked against
# awqmap::core (whose C functions it calls: <awqmap/plugin.h>), with only its entry symbol
# exported. Sources may be C++ or C (a C plugin needs C enabled: project(... LANGUAGES C CXX)).
# The plugin may be built with other compiler flags or another C++ standard library than
# awqmap itself: only the C contract crosses (docs/plugins.md). Put the directory that holds it on
# AWQMAP_PLUGIN_PATH (or pass --plugin-dir). INSTALL installs it into the awqmap plugin
# directory of CMAKE_INSTALL_PREFIX.
function(awqmap_add_plugin name)
  cmake_parse_arguments(ARG "INSTALL" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "awqmap_add_plugin(${name}): give SOURCES")
  endif()
  set(target awqmap_plugin_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE awqmap::core)
  if(TARGET awqmap_warnings)
    target_link_libraries(${target} PRIVATE awqmap_warnings)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "awqmap-${name}"
    SUFFIX ".so"
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
  if(ARG_INSTALL)
    include(GNUInstallDirs)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
    install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/awqmap/plugins)
  endif()
endfunction()
