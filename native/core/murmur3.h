// MurmurHash3 x86_32, as the Amplitude engines use it for bucketing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace experiment {

uint32_t murmur3_x86_32(const void* data, size_t length, uint32_t seed);

}  // namespace experiment
