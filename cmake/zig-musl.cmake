# Cross toolchain for the musl (Alpine) prebuilds: Zig's clang with its own musl and libc++
# (linked in statically), through the wrapper scripts scripts/prebuild.js writes for
# `--libc musl` (`zig cc|c++ -target <arch>-linux-musl`, `zig ar`, `zig ranlib`).
# Environment (read here and in CMake's try-compile runs): ZIG_WRAPPERS, ZIG_ARCH (x86_64|aarch64).
# Use with -DEXPERIMENT_PORTABLE=OFF (that block is the glibc recipe); the equivalent for musl
# is below: only the Node-API entry points exported, unused sections dropped, symbols stripped.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR $ENV{ZIG_ARCH})
set(CMAKE_C_COMPILER $ENV{ZIG_WRAPPERS}/cc)
set(CMAKE_CXX_COMPILER $ENV{ZIG_WRAPPERS}/c++)
set(CMAKE_AR $ENV{ZIG_WRAPPERS}/ar CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB $ENV{ZIG_WRAPPERS}/ranlib CACHE FILEPATH "zig ranlib")
set(CMAKE_C_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_SHARED_LINKER_FLAGS_INIT
  "-Wl,--version-script=${CMAKE_CURRENT_LIST_DIR}/../native/compat/exports.map -Wl,--gc-sections -Wl,-z,noexecstack -s")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
