#include "murmur3.h"

#include <cstring>

namespace experiment {

namespace {
inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}
}  // namespace

uint32_t murmur3_blocks(const void* data, size_t blocks, uint32_t seed) {
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  uint32_t h = seed;
  for (size_t i = 0; i < blocks; i++) {
    // Little-endian load regardless of the host byte order.
    const uint8_t* p = bytes + i * 4;
    uint32_t k = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                 (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
    k *= c1;
    k = rotl32(k, 15);
    k *= c2;
    h ^= k;
    h = rotl32(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  return h;
}

uint32_t murmur3_x86_32_from(uint32_t state, const void* rest, size_t restLength, size_t totalLength) {
  const uint8_t* bytes = static_cast<const uint8_t*>(rest);
  const size_t blocks = restLength / 4;
  const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  uint32_t h = murmur3_blocks(rest, blocks, state);
  const uint8_t* tail = bytes + blocks * 4;
  uint32_t k1 = 0;
  switch (restLength & 3) {
    case 3:
      k1 ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k1 ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k1 ^= tail[0];
      k1 *= c1;
      k1 = rotl32(k1, 15);
      k1 *= c2;
      h ^= k1;
  }
  h ^= static_cast<uint32_t>(totalLength);
  return fmix32(h);
}

void murmur3_x86_32_from4(const uint32_t state[4], const uint8_t* const rest[4], size_t restLength,
                          const size_t totalLength[4], uint32_t out[4]) {
  const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
  uint32_t h[4] = {state[0], state[1], state[2], state[3]};
  const size_t blocks = restLength / 4;
  for (size_t i = 0; i < blocks; i++) {
    for (int lane = 0; lane < 4; lane++) {
      const uint8_t* p = rest[lane] + i * 4;
      uint32_t k = static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
                   (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
      k *= c1;
      k = rotl32(k, 15);
      k *= c2;
      h[lane] ^= k;
      h[lane] = rotl32(h[lane], 13);
      h[lane] = h[lane] * 5 + 0xe6546b64u;
    }
  }
  for (int lane = 0; lane < 4; lane++) {
    const uint8_t* tail = rest[lane] + blocks * 4;
    uint32_t k1 = 0;
    switch (restLength & 3) {
      case 3:
        k1 ^= static_cast<uint32_t>(tail[2]) << 16;
        [[fallthrough]];
      case 2:
        k1 ^= static_cast<uint32_t>(tail[1]) << 8;
        [[fallthrough]];
      case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h[lane] ^= k1;
    }
    out[lane] = fmix32(h[lane] ^ static_cast<uint32_t>(totalLength[lane]));
  }
}

uint32_t murmur3_x86_32(const void* data, size_t length, uint32_t seed) {
  return murmur3_x86_32_from(seed, data, length, length);
}

}  // namespace experiment
