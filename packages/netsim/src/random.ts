import type { RandomSource } from '@natkit/sans-io';

/**
 * Hashes a seed and a stream label to 32 bits (FNV-1a, then a murmur3 finaliser).
 *
 * Every consumer of randomness in a simulation (each network's link, each NAT's port
 * picker, each `Sim.randomSource(label)`) draws from its own stream derived from
 * `(seed, label)`, so adding a host on one network does not shift the loss pattern of another.
 */
export function hashSeed(seed: number | string, label: string): number {
  const text = `${typeof seed}:${seed}/${label}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A small, fast, seeded PRNG (sfc32). Not cryptographic — it exists so that a simulation
 * is a pure function of its seed. Never `Math.random`.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number | string, label = '') {
    const s = hashSeed(seed, label);
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = s;
    // Warm up so that nearby seeds diverge.
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** `true` with probability `p`. Draws nothing when `p <= 0` or `p >= 1`. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** A float uniformly in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** An integer uniformly in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Fills `bytes` with pseudo-random values. */
  fill(bytes: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      const v = this.nextU32();
      bytes[i] = v & 0xff;
      bytes[i + 1] = (v >>> 8) & 0xff;
      bytes[i + 2] = (v >>> 16) & 0xff;
      bytes[i + 3] = v >>> 24;
    }
    if (i < bytes.length) {
      let v = this.nextU32();
      for (; i < bytes.length; i++) {
        bytes[i] = v & 0xff;
        v >>>= 8;
      }
    }
  }

  /** This stream as a {@link RandomSource} for machines that take one. */
  asRandomSource(): RandomSource {
    return (bytes) => this.fill(bytes);
  }
}
