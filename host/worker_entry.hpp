// The hidden `iclr __worker` command's entry: the worker library (the only code that links
// libtorch) loaded into this process, which it then runs.
#pragma once

namespace iclr {

// Loads libiclr_worker.so (ICLR_WORKER_LIB, else beside the executable's lib/ or lib/iclr/) and hands
// the process to it; never returns when it loads (the worker's exit status ends the process), else 3.
int worker_main();

} // namespace iclr
