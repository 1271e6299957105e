# iclr's CMake package (installed in PREFIX/lib/cmake/iclr): the plugin SDK as iclr::sdk and
# iclr_add_plugin() for plugin projects outside the iclr tree:
#   find_package(iclr REQUIRED)
#   iclr_add_plugin(ewc KIND method SOURCES ewc.cpp)
# The plugin builds into <build>/plugins/<kind>s/ (point ICLR_PLUGIN_PATH there) and
# `cmake --install` puts it in PREFIX/lib/iclr/plugins/<kind>s/, where the installed iclr looks.
include(CMakeFindDependencyMacro)
find_dependency(Torch)
find_dependency(Boost 1.74)
get_filename_component(ICLR_PREFIX "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

# iclr::sdk: the headers and the helpers' compiled code (libiclr_sdk_helpers.a, position-independent,
# hidden visibility: each plugin keeps a private copy of what it uses).
if(NOT TARGET iclr::sdk)
  add_library(iclr::sdk_helpers STATIC IMPORTED)
  set_target_properties(iclr::sdk_helpers PROPERTIES
    IMPORTED_LOCATION "${ICLR_PREFIX}/lib/iclr/libiclr_sdk_helpers.a")
  add_library(iclr::sdk INTERFACE IMPORTED)
  set_target_properties(iclr::sdk PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ICLR_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES "iclr::sdk_helpers;Boost::headers;${TORCH_LIBRARIES}"
    INTERFACE_COMPILE_FEATURES cxx_std_20)
endif()

include(${CMAKE_CURRENT_LIST_DIR}/IclrPluginTarget.cmake)

function(iclr_add_plugin name)
  cmake_parse_arguments(P "" "KIND;OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  set(target iclr_${P_KIND}_${name})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE iclr::sdk ${TORCH_LIBRARIES})
  _iclr_plugin_target(${target} ${name} "${P_KIND}" ${P_OUTPUT_DIR})
  _iclr_install_plugin(${target} ${P_KIND})
endfunction()
