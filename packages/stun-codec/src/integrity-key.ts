/**
 * HMAC keys with cached state. Every MESSAGE-INTEGRITY over the same credential starts from
 * the same two hash states (key ⊕ ipad, key ⊕ opad); computing them once per key instead of
 * once per message saves two of the five compression-function calls a typical check costs.
 */
import { _HMAC } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** Which HMAC: SHA-1 for MESSAGE-INTEGRITY, SHA-256 for MESSAGE-INTEGRITY-SHA256. */
export type MacAlgorithm = 'sha1' | 'sha256';

/** The slice of noble's HMAC object this module uses (typed here so every runtime agrees). */
interface Mac {
  update(data: Uint8Array): unknown;
  digestInto(out: Uint8Array): void;
  _cloneInto(to?: Mac): Mac;
}

interface CachedHmac {
  /** Keyed state before any message bytes; never finished. */
  readonly template: Mac;
  /** Reused working copy, so a MAC allocates nothing. */
  readonly work: Mac;
}

// The first four header bytes with the Length field patched, fed before bytes[4..end).
const patchedHead = new Uint8Array(4);

/**
 * A MESSAGE-INTEGRITY key with cached HMAC state: create one per credential (for ICE, per
 * remote/local password) and reuse it for every message.
 */
export class IntegrityKey {
  /** The raw key bytes (a copy of what the constructor got). */
  readonly key: Uint8Array;
  #sha1: CachedHmac | undefined;
  #sha256: CachedHmac | undefined;

  constructor(key: Uint8Array) {
    this.key = key.slice();
  }

  /**
   * Computes the HMAC STUN integrity covers: the message `bytes[0..end)` as if its header
   * Length field were `lengthField` (RFC 8489 §14.5, §14.6). Writes the full digest (20 or 32
   * bytes) into `out`. Low level: the builder and the verifiers call this.
   */
  mac(algorithm: MacAlgorithm, bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void {
    const state = algorithm === 'sha1' ? this.#state1() : this.#state256();
    const h = state.template._cloneInto(state.work);
    patchedHead[0] = bytes[0]!;
    patchedHead[1] = bytes[1]!;
    patchedHead[2] = lengthField >>> 8;
    patchedHead[3] = lengthField & 0xff;
    h.update(patchedHead);
    h.update(bytes.subarray(4, end));
    h.digestInto(out);
  }

  #state1(): CachedHmac {
    if (this.#sha1 === undefined) this.#sha1 = this.#create(sha1);
    return this.#sha1;
  }

  #state256(): CachedHmac {
    if (this.#sha256 === undefined) this.#sha256 = this.#create(sha256);
    return this.#sha256;
  }

  #create(hash: typeof sha1 | typeof sha256): CachedHmac {
    const template = new _HMAC(hash, this.key) as unknown as Mac;
    return { template, work: template._cloneInto() };
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
