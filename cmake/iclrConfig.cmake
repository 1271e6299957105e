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

if(NOT TARGET iclr::sdk)
  add_library(iclr::sdk INTERFACE IMPORTED)
  set_target_properties(iclr::sdk PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ICLR_PREFIX}/include"
    INTERFACE_LINK_LIBRARIES Boost::headers
    INTERFACE_COMPILE_FEATURES cxx_std_20)
endif()

function(iclr_add_plugin name)
  cmake_parse_arguments(P "" "KIND;OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT P_KIND MATCHES "^(dataset|model|method|metric)$")
    message(FATAL_ERROR "iclr_add_plugin(${name}): KIND must be dataset, model, method or metric")
  endif()
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${CMAKE_BINARY_DIR}/plugins)
  endif()
  set(target iclr_${P_KIND}_${name})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE iclr::sdk ${TORCH_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}/${P_KIND}s
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  install(TARGETS ${target} LIBRARY DESTINATION lib/iclr/plugins/${P_KIND}s)
endfunction()
