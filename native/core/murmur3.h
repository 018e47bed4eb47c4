// MurmurHash3 x86_32, as the Amplitude engines use it for bucketing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace experiment {

uint32_t murmur3_x86_32(const void* data, size_t length, uint32_t seed);

// For hashing many texts that share a prefix (a bucket's salt): the state
// after the prefix's whole 4-byte blocks (murmur3_blocks), then the hash of
// the rest (the prefix's last length % 4 bytes and the text) continued from
// it; `totalLength` is the length of the whole input.
uint32_t murmur3_blocks(const void* data, size_t blocks, uint32_t seed);
uint32_t murmur3_x86_32_from(uint32_t state, const void* rest, size_t restLength, size_t totalLength);

// Four murmur3_x86_32_from at once, over rests of the same length: the four
// dependent chains of multiplies interleave (about the time of one).
void murmur3_x86_32_from4(const uint32_t state[4], const uint8_t* const rest[4], size_t restLength,
                          const size_t totalLength[4], uint32_t out[4]);

}  // namespace experiment
