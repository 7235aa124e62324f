/**
 * HMAC keys with cached state. Every MESSAGE-INTEGRITY over the same credential starts from
 * the same two hash states (key ⊕ ipad, key ⊕ opad, RFC 2104); computing them once per key
 * instead of once per message saves two of the five compression-function calls a typical
 * check costs. The hash functions themselves are @noble/hashes'.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** Which HMAC: SHA-1 for MESSAGE-INTEGRITY, SHA-256 for MESSAGE-INTEGRITY-SHA256. */
export type MacAlgorithm = 'sha1' | 'sha256';

/** The slice of a noble hash object used here (typed locally so every runtime agrees). */
interface HashState {
  update(data: Uint8Array): unknown;
  digestInto(out: Uint8Array): void;
  _cloneInto(to?: HashState): HashState;
}

interface HashFn {
  create(): unknown;
  readonly blockLen: number;
  readonly outputLen: number;
}

// The first four header bytes with the Length field patched, fed before bytes[4..end).
const patchedHead = new Uint8Array(4);

/** HMAC (RFC 2104) whose keyed inner and outer states are computed once. */
class CachedHmac {
  readonly #inner: HashState;
  readonly #outer: HashState;
  // Reused working copies and inner digest, so a MAC allocates (almost) nothing.
  readonly #innerWork: HashState;
  readonly #outerWork: HashState;
  readonly #innerDigest: Uint8Array;

  constructor(hash: HashFn, key: Uint8Array) {
    const pad = new Uint8Array(hash.blockLen);
    const k = key.length > hash.blockLen ? digest(hash, key) : key;
    pad.set(k);
    for (let i = 0; i < pad.length; i++) pad[i]! ^= 0x36;
    this.#inner = hash.create() as HashState;
    this.#inner.update(pad);
    for (let i = 0; i < pad.length; i++) pad[i]! ^= 0x36 ^ 0x5c;
    this.#outer = hash.create() as HashState;
    this.#outer.update(pad);
    pad.fill(0);
    this.#innerWork = this.#inner._cloneInto();
    this.#outerWork = this.#outer._cloneInto();
    this.#innerDigest = new Uint8Array(hash.outputLen);
  }

  /** HMAC of `patchedHead ‖ bytes[4..end)` into `out` (at least outputLen bytes). */
  mac(bytes: Uint8Array, end: number, out: Uint8Array): void {
    const i = this.#inner._cloneInto(this.#innerWork);
    i.update(patchedHead);
    i.update(bytes.subarray(4, end));
    i.digestInto(this.#innerDigest);
    const o = this.#outer._cloneInto(this.#outerWork);
    o.update(this.#innerDigest);
    o.digestInto(out);
  }
}

function digest(hash: HashFn, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(hash.outputLen);
  const h = hash.create() as HashState;
  h.update(data);
  h.digestInto(out);
  return out;
}

/**
 * A MESSAGE-INTEGRITY key with cached HMAC state: create one per credential (for ICE, per
 * remote/local password) and reuse it for every message. Not safe to share across threads
 * (it reuses scratch state), which JavaScript's run-to-completion model makes moot.
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
   * bytes) into `out`, which must hold at least that many. Low level: the builder and the
   * verifiers call this.
   */
  mac(algorithm: MacAlgorithm, bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void {
    patchedHead[0] = bytes[0]!;
    patchedHead[1] = bytes[1]!;
    patchedHead[2] = lengthField >>> 8;
    patchedHead[3] = lengthField & 0xff;
    if (algorithm === 'sha1') {
      if (this.#sha1 === undefined) this.#sha1 = new CachedHmac(sha1, this.key);
      this.#sha1.mac(bytes, end, out);
    } else {
      if (this.#sha256 === undefined) this.#sha256 = new CachedHmac(sha256, this.key);
      this.#sha256.mac(bytes, end, out);
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
