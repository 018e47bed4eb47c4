/* A Node-API addon that leaks on purpose: scripts/test-sanitized.sh loads it
 * under the same ASan/LSan options and suppressions as the real addon and
 * requires a leak report, so a suppression that hid the addon's own leaks
 * would fail the script instead of passing silently. */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

static void* volatile sink;

static napi_value leak(napi_env env, napi_callback_info info) {
  char* p = malloc(4096);
  memset(p, 1, 4096);
  sink = p;
  sink = NULL; /* unreachable from here on: a definite leak */
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "leak", NAPI_AUTO_LENGTH, leak, NULL, &fn);
  napi_set_named_property(env, exports, "leak", fn);
  return exports;
}
