# _iclr_plugin_target(TARGET NAME KIND OUTPUT_DIR): the properties every plugin library needs, in
# the iclr tree (IclrPlugin.cmake) and out of it (iclrConfig.cmake): named NAME.so in
# OUTPUT_DIR/<kind>s/, position-independent, only iclr_plugin_entry exported.
function(_iclr_plugin_target target name kind output_dir)
  if(NOT kind MATCHES "^(dataset|model|method|metric)$")
    message(FATAL_ERROR "iclr_add_plugin(${name}): KIND must be dataset, model, method or metric")
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "" OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${output_dir}/${kind}s
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  # With full -g (a Debug build; a plugin project outside the tree, whatever its flags) debug info
  # is 99% of a plugin's file (the torch headers' DWARF, 8 MB for 60 KB of code); compressed, gdb
  # still reads it, and every fresh plugin cache hashes a quarter of the bytes. (In the tree's
  # RelWithDebInfo build, line tables only: sparse_detr.so is 0.9 MB, CMakeLists.txt.)
  target_link_options(${target} PRIVATE -Wl,--compress-debug-sections=zlib)
endfunction()
