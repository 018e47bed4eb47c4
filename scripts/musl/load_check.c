// Loads a .node file with the system's dynamic loader the way Node does
// (dlopen), runs its static initializers and asks it for its Node-API version,
// without Node: on a glibc host with Debian's musl package installed, this is
// the closest to an Alpine Node that can run here. The Node-API functions the
// addon imports are provided by stubs that abort (none may be called by
// loading; test-musl.sh generates them from the addon's undefined symbols).
//
// usage: load_check <addon.node>     prints the Node-API version; exit 1 on failure
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: load_check <addon.node>\n");
    return 2;
  }
  void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "load_check: dlopen failed: %s\n", dlerror());
    return 1;
  }
  int32_t (*version)(void) = (int32_t(*)(void))dlsym(lib, "node_api_module_get_api_version_v1");
  void* reg = dlsym(lib, "napi_register_module_v1");
  if (!version || !reg) {
    fprintf(stderr, "load_check: the Node-API entry points are missing\n");
    return 1;
  }
  printf("load_check: loaded, Node-API version %d\n", (int)version());
  return 0;
}
