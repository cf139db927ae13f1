/* unpack.c's entry point, registered by skiff_native.c's init.  */
#ifndef SKIFF_UNPACK_H
#define SKIFF_UNPACK_H
#include <node_api.h>
napi_value js_unpacker (napi_env env, napi_callback_info info);
#endif
