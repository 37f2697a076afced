// HMAC-SHA256 (RFC 2104 over FIPS 180-4) in plain TypeScript, for one job: the search tokens of every
// prefix of a member's words (search_tokens.ts), about 40 per webhook. Through node:crypto each MAC
// is 6-8 calls into the runtime (~10 us even with the key's pads reused), ~0.4 ms per webhook against
// a function budget of 0.5 ms (BENCHMARKS.md); here it is 2-3 compressions of a block in V8 (~1 us).
// Outputs equal WebCrypto's HMAC, checked over random keys and messages in tests/unit/sha256_js_test.ts.
// Not for secrets compared in time-sensitive ways: everything else keeps node:crypto (primitives.ts).

// Int32 throughout: V8 keeps int32 values unboxed, while uint32 values above 2^31 become doubles.
const K = new Int32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);
const INITIAL = new Int32Array([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);
const BLOCK = 64;
const w = new Int32Array(64);

/** One SHA-256 compression of `block` (64 bytes from `offset`) into `state`, in place. */
function compress(state: Int32Array, block: Uint8Array, offset: number) {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    w[i] = (block[j] << 24) | (block[j + 1] << 16) | (block[j + 2] << 8) | block[j + 3];
  }
  for (let i = 16; i < 64; i++) {
    const a = w[i - 15];
    const b = w[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0],
    b = state[1],
    c = state[2],
    d = state[3],
    e = state[4],
    f = state[5],
    g = state[6],
    h = state[7];
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0] + a) | 0;
  state[1] = (state[1] + b) | 0;
  state[2] = (state[2] + c) | 0;
  state[3] = (state[3] + d) | 0;
  state[4] = (state[4] + e) | 0;
  state[5] = (state[5] + f) | 0;
  state[6] = (state[6] + g) | 0;
  state[7] = (state[7] + h) | 0;
}

// Scratch space reused by every call (typed-array allocation costs more than a compression here).
const scratch = new Uint8Array(4 * BLOCK);
const work = new Int32Array(8);
const innerDigest = new Uint8Array(32);

/** Finishes a hash whose state already absorbed `absorbed` bytes (whole blocks), over `tail`, into `out`. */
function finish(state: Int32Array, absorbed: number, tail: Uint8Array, out: Uint8Array): Uint8Array {
  const length = Math.ceil((tail.length + 9) / BLOCK) * BLOCK;
  const padded = length <= scratch.length ? scratch : new Uint8Array(length);
  padded.fill(0, 0, length);
  padded.set(tail);
  padded[tail.length] = 0x80;
  const bits = (absorbed + tail.length) * 8;
  const high = Math.floor(bits / 2 ** 32);
  for (let i = 0; i < 4; i++) {
    padded[length - 8 + i] = (high >>> (24 - 8 * i)) & 0xff;
    padded[length - 4 + i] = (bits >>> (24 - 8 * i)) & 0xff;
  }
  work.set(state);
  for (let offset = 0; offset < length; offset += BLOCK) compress(work, padded, offset);
  for (let i = 0; i < 8; i++) {
    out[i * 4] = work[i] >>> 24;
    out[i * 4 + 1] = (work[i] >>> 16) & 0xff;
    out[i * 4 + 2] = (work[i] >>> 8) & 0xff;
    out[i * 4 + 3] = work[i] & 0xff;
  }
  return out;
}

/** A key's HMAC pads absorbed into two states, reused for every MAC under it. */
export interface HmacKeyState {
  inner: Int32Array;
  outer: Int32Array;
}

export function hmacKeyState(key: Uint8Array): HmacKeyState {
  const bytes = key.length > BLOCK ? finish(INITIAL, 0, key, new Uint8Array(32)) : key;
  const pad = (value: number) => {
    const block = new Uint8Array(BLOCK).fill(value);
    for (let i = 0; i < bytes.length; i++) block[i] = bytes[i] ^ value;
    const state = INITIAL.slice();
    compress(state, block, 0);
    block.fill(0);
    return state;
  };
  return { inner: pad(0x36), outer: pad(0x5c) };
}

/** HMAC-SHA256 of `message` under the key `state` was made from. */
export function hmacSha256Js(state: HmacKeyState, message: Uint8Array): Uint8Array {
  return finish(state.outer, BLOCK, finish(state.inner, BLOCK, message, innerDigest), new Uint8Array(32));
}
