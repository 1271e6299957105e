# iclr_add_plugin(NAME KIND <dataset|model|method|metric> SOURCES a.cpp ... [LIBS lib ...] [OUTPUT_DIR dir])
# One call per plugin folder: builds NAME.so into <build>/plugins/<kind>s/, hidden visibility
# (only iclr_plugin_entry is exported), linked to the SDK helpers (sdk/CMakeLists.txt), LIBS (a static
# library of shared plugin code) and the shared libtorch, reusing one
# torch PCH.

# The precompiled <torch/torch.h> shared by every plugin target (a torch TU costs ~25 s without it).
# Debug info is line tables only in RelWithDebInfo, as for every file (CMakeLists.txt says why).
add_library(iclr_torch_pch OBJECT ${CMAKE_CURRENT_LIST_DIR}/pch.cpp)
target_link_libraries(iclr_torch_pch PRIVATE iclr_sdk ${TORCH_LIBRARIES})
set_target_properties(iclr_torch_pch PROPERTIES POSITION_INDEPENDENT_CODE ON
  CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
target_precompile_headers(iclr_torch_pch PRIVATE <torch/torch.h>)

# iclr_use_torch_pch(TARGET): TARGET compiles against the shared torch PCH (the plugins here,
# plugin_tests, the worker's torch files), so with the PCH's own flags, which REUSE_FROM needs and
# this sets: hidden visibility, and -fPIC, which an executable gets by hand (its
# POSITION_INDEPENDENT_CODE would mean -fPIE, a flag the PCH was not built with).
function(iclr_use_torch_pch target)
  set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fPIC)
  else()
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  target_precompile_headers(${target} REUSE_FROM iclr_torch_pch)
endfunction()

# iclr_add_plugin_library(TARGET SOURCES a.cpp ...): a static library of code several plugins share
# (the SDK helpers), compiled as the plugins are (iclr_use_torch_pch's
# flags), so each plugin that links it keeps a private copy.
function(iclr_add_plugin_library target)
  cmake_parse_arguments(P "" "" "SOURCES" ${ARGN})
  add_library(${target} STATIC ${P_SOURCES})
  iclr_use_torch_pch(${target})
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/IclrPluginTarget.cmake)

function(iclr_add_plugin name)
  cmake_parse_arguments(P "" "KIND;OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  set(is_default_dir FALSE)
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${ICLR_PLUGIN_OUTPUT_DIR})
    set(is_default_dir TRUE)
  endif()
  set(target iclr_${P_KIND}_${name})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE ${P_LIBS} iclr_sdk_helpers ${TORCH_LIBRARIES})
  _iclr_plugin_target(${target} ${name} "${P_KIND}" ${P_OUTPUT_DIR})
  iclr_use_torch_pch(${target})
  if(is_default_dir)
    add_dependencies(iclr ${target}) # `cmake --build --target iclr` gives a usable tool
    _iclr_install_plugin(${target} ${P_KIND})
  endif()
endfunction()
