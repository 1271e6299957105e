// The one translation unit that compiles toml++'s implementation (everything else sees declarations).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
