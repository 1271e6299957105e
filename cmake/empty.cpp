// Empty: the layer-check libraries are made of one layer's objects (host/CMakeLists.txt).
