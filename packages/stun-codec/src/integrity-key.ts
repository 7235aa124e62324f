/** Per-credential MESSAGE-INTEGRITY keys with cached HMAC state, and MAC comparison. */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createStunMac, type HashFn, type StunMac } from './hmac.ts';

/** Which HMAC: SHA-1 for MESSAGE-INTEGRITY, SHA-256 for MESSAGE-INTEGRITY-SHA256. */
export type MacAlgorithm = 'sha1' | 'sha256';

/**
 * A MESSAGE-INTEGRITY key with cached HMAC state: create one per credential (for ICE, per
 * remote/local password) and reuse it for every message. Per hash it used, a key keeps only
 * its two keyed hash states (~0.2 KB); the compressor and scratch buffers are shared by all
 * keys, which is safe because JavaScript runs each MAC to completion (and a key is not
 * shared across threads).
 */
export class IntegrityKey {
  /** The raw key bytes (a copy of what the constructor got). */
  readonly key: Uint8Array;
  #sha1: StunMac | undefined;
  #sha256: StunMac | undefined;

  constructor(key: Uint8Array) {
    this.key = key.slice();
  }

  /**
   * Computes the HMAC STUN integrity covers: the message `bytes[0..end)` as if its header
   * Length field were `lengthField` (RFC 8489 §14.5, §14.6). Writes the full digest (20 or 32
   * bytes) into `out`, which must hold at least that many. Low level: the builder and the
   * verifiers call this.
   */
  mac(algorithm: MacAlgorithm, bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void {
    if (algorithm === 'sha1') {
      if (this.#sha1 === undefined) this.#sha1 = createStunMac(sha1 as unknown as HashFn, this.key);
      this.#sha1.mac(bytes, end, lengthField, out);
    } else {
      if (this.#sha256 === undefined) this.#sha256 = createStunMac(sha256 as unknown as HashFn, this.key);
      this.#sha256.mac(bytes, end, lengthField, out);
    }
  }
}

/** `key` as an IntegrityKey, wrapping raw bytes (without caching) when needed. */
export function toIntegrityKey(key: IntegrityKey | Uint8Array): IntegrityKey {
  return key instanceof IntegrityKey ? key : new IntegrityKey(key);
}

/** Compares `a[0..n)` with `b[bOffset..bOffset+n)` in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array, bOffset: number, n: number): boolean {
  let diff = 0;
  for (let i = 0; i < n; i++) diff |= a[i]! ^ b[bOffset + i]!;
  return diff === 0;
}
