#include "murmur3.h"

#include <cstring>

namespace experiment {

namespace {
constexpr uint32_t kC1 = 0xcc9e2d51u, kC2 = 0x1b873593u;
inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}
// One 4-byte block into the state (a little-endian load regardless of the host byte order).
inline uint32_t mixBlock(uint32_t h, const uint8_t* p) {
  uint32_t k = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
               (static_cast<uint32_t>(p[3]) << 24);
  k *= kC1;
  k = rotl32(k, 15);
  k *= kC2;
  h ^= k;
  h = rotl32(h, 13);
  return h * 5 + 0xe6546b64u;
}
// The last 0-3 bytes, the length and the finalizer.
inline uint32_t finish(uint32_t h, const uint8_t* tail, size_t tailLength, size_t totalLength) {
  uint32_t k1 = 0;
  switch (tailLength) {
    case 3:
      k1 ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k1 ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k1 ^= tail[0];
      k1 *= kC1;
      k1 = rotl32(k1, 15);
      k1 *= kC2;
      h ^= k1;
  }
  return fmix32(h ^ static_cast<uint32_t>(totalLength));
}
}  // namespace

uint32_t murmur3_blocks(const void* data, size_t blocks, uint32_t seed) {
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  uint32_t h = seed;
  for (size_t i = 0; i < blocks; i++) h = mixBlock(h, bytes + i * 4);
  return h;
}

uint32_t murmur3_x86_32_from(uint32_t state, const void* rest, size_t restLength, size_t totalLength) {
  const size_t blocks = restLength / 4;
  const uint32_t h = murmur3_blocks(rest, blocks, state);
  return finish(h, static_cast<const uint8_t*>(rest) + blocks * 4, restLength & 3, totalLength);
}

void murmur3_x86_32_from4(const uint32_t state[4], const uint8_t* const rest[4], size_t restLength,
                          const size_t totalLength[4], uint32_t out[4]) {
  uint32_t h[4] = {state[0], state[1], state[2], state[3]};
  const size_t blocks = restLength / 4;
  // Four independent chains side by side: the CPU overlaps their multiplies.
  for (size_t i = 0; i < blocks; i++) {
    for (int lane = 0; lane < 4; lane++) h[lane] = mixBlock(h[lane], rest[lane] + i * 4);
  }
  for (int lane = 0; lane < 4; lane++) {
    out[lane] = finish(h[lane], rest[lane] + blocks * 4, restLength & 3, totalLength[lane]);
  }
}

uint32_t murmur3_x86_32(const void* data, size_t length, uint32_t seed) {
  return murmur3_x86_32_from(seed, data, length, length);
}

}  // namespace experiment
