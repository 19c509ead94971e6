# awqmap_add_plugin(NAME SOURCES src...) builds an awqmap plugin: a shared library named
# awqmap-<NAME>.so, linked against awqmap::core, placed in the build tree's plugin directory
# when it is built as part of awqmap itself.
function(awqmap_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
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
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
endfunction()
