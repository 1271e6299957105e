// The hidden `iclr __worker` command: libiclr_worker.so (which links libtorch) loaded and run here.
#include "worker_entry.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/process.hpp"

namespace iclr {

int worker_main() {
    std::string lib;
    std::filesystem::path prefix = std::filesystem::path(exe_dir()).parent_path();
    if (const char* e = std::getenv("ICLR_WORKER_LIB"); e && *e)
        lib = e;
    else if (std::error_code ec; std::filesystem::exists(prefix / "lib" / "libiclr_worker.so", ec))
        lib = (prefix / "lib" / "libiclr_worker.so").string(); // the build tree
    else
        lib = (prefix / "lib" / "iclr" / "libiclr_worker.so").string(); // an installed prefix
    void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        std::fprintf(stderr, "iclr worker: cannot load %s: %s\n", lib.c_str(), dlerror());
        return 3;
    }
    auto fn = reinterpret_cast<int (*)()>(dlsym(h, "iclr_worker_main"));
    if (!fn) {
        std::fprintf(stderr, "iclr worker: %s has no iclr_worker_main\n", lib.c_str());
        return 3;
    }
    int rc = fn();
    std::fflush(nullptr);
    _exit(rc); // skip libtorch's static destructors: nothing is left to clean up
}

} // namespace iclr
