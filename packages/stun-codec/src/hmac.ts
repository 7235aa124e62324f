/**
 * HMAC (RFC 2104) over a STUN message prefix, with the keyed state computed once per key.
 *
 * Every MESSAGE-INTEGRITY over the same credential starts from the same two hash states
 * (key ⊕ ipad and key ⊕ opad, one compression each). Caching them saves two of the five
 * compressions a typical check costs. The hash functions are @noble/hashes'.
 *
 * Two implementations:
 * - {@link BlockHmac} drives noble's SHA-1 / SHA-256 compression function directly: it lays
 *   the message (with the patched Length field) and the Merkle–Damgård padding out in one
 *   scratch buffer and compresses block by block. That skips noble's streaming layer
 *   (buffering, DataView and array allocations per digest), which on STUN-sized messages
 *   costs as much as the compressions themselves. It relies on noble's `process`/`get`/
 *   `set` members, so it is self-tested against noble's own `hmac` before first use.
 * - {@link StreamHmac} uses only noble's public streaming API; the fallback if the
 *   self-test ever fails (a future noble changing its internals).
 */
import { hmac } from '@noble/hashes/hmac.js';

/** A keyed HMAC over `bytes[0..end)` with the header Length field replaced by `lengthField`. */
export interface StunMac {
  mac(bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void;
}

/** What this module needs of a noble hash function (typed locally so every runtime agrees). */
export interface HashFn {
  (data: Uint8Array): Uint8Array;
  create(): unknown;
  readonly blockLen: number;
  readonly outputLen: number;
}

/** Noble's streaming interface. */
interface Streaming {
  update(data: Uint8Array): unknown;
  digestInto(out: Uint8Array): void;
  _cloneInto(to?: Streaming): Streaming;
}

/** Noble's compression-level members of its Merkle–Damgård hashes (SHA-1, SHA-2). */
interface Compressor {
  process(view: DataView, offset: number): void;
  get(): number[];
  set(...words: number[]): void;
  roundClean(): void;
}

function keyBlock(hash: HashFn, key: Uint8Array, xor: number): Uint8Array {
  const pad = new Uint8Array(hash.blockLen);
  pad.set(key.length > hash.blockLen ? hash(key) : key);
  for (let i = 0; i < pad.length; i++) pad[i] = pad[i]! ^ xor;
  return pad;
}

/** HMAC through noble's public streaming API, with cached keyed states. */
export class StreamHmac implements StunMac {
  readonly #inner: Streaming;
  readonly #outer: Streaming;
  readonly #innerWork: Streaming;
  readonly #outerWork: Streaming;
  readonly #innerDigest: Uint8Array;
  readonly #head = new Uint8Array(4);

  constructor(hash: HashFn, key: Uint8Array) {
    this.#inner = hash.create() as Streaming;
    this.#inner.update(keyBlock(hash, key, 0x36));
    this.#outer = hash.create() as Streaming;
    this.#outer.update(keyBlock(hash, key, 0x5c));
    this.#innerWork = this.#inner._cloneInto();
    this.#outerWork = this.#outer._cloneInto();
    this.#innerDigest = new Uint8Array(hash.outputLen);
  }

  mac(bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void {
    const head = this.#head;
    head[0] = bytes[0]!;
    head[1] = bytes[1]!;
    head[2] = lengthField >>> 8;
    head[3] = lengthField & 0xff;
    const i = this.#inner._cloneInto(this.#innerWork);
    i.update(head);
    i.update(bytes.subarray(4, end));
    i.digestInto(this.#innerDigest);
    const o = this.#outer._cloneInto(this.#outerWork);
    o.update(this.#innerDigest);
    o.digestInto(out);
  }
}

/** HMAC that feeds pre-padded blocks to noble's compression function (see the module doc). */
export class BlockHmac implements StunMac {
  readonly #c: Compressor;
  // The keyed states, zero-padded to eight words so one `set` call with explicit arguments
  // serves SHA-1 (five words; it ignores the rest) and SHA-256 without a spread call
  // (`set(...state)` iterates the array on every MAC).
  readonly #innerState = new Int32Array(8);
  readonly #outerState = new Int32Array(8);
  readonly #words: number;
  // The outer hash's only block: inner digest, 0x80, zeros, bit length (64 + outputLen) * 8.
  readonly #outerBlock = new Uint8Array(64);
  readonly #outerView = new DataView(this.#outerBlock.buffer);
  #scratch = new Uint8Array(256);
  #scratchView = new DataView(this.#scratch.buffer);

  constructor(hash: HashFn, key: Uint8Array) {
    const inner = hash.create() as Streaming & Compressor;
    inner.update(keyBlock(hash, key, 0x36));
    this.#innerState.set(inner.get());
    const outer = hash.create() as Streaming & Compressor;
    outer.update(keyBlock(hash, key, 0x5c));
    this.#outerState.set(outer.get());
    this.#c = hash.create() as Compressor;
    this.#words = hash.outputLen >>> 2;
    this.#outerBlock[hash.outputLen] = 0x80;
    this.#outerView.setUint32(60, (64 + hash.outputLen) * 8);
  }

  mac(bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void {
    // Inner: ipad state, then bytes[0..end) with the patched Length, 0x80, zeros and the
    // 64-bit bit length of everything hashed (the ipad block included).
    const blocks = (end + 9 + 63) >>> 6;
    const size = blocks << 6;
    // When little follows `end` (a received datagram: just MI and FINGERPRINT), copy the
    // whole thing: a plain set() is cheaper than allocating a subarray of the prefix. Bytes
    // past `end` are overwritten by the padding or unused.
    const whole = bytes.length - end <= 64;
    const need = whole ? Math.max(size, bytes.length) : size;
    if (this.#scratch.length < need) {
      this.#scratch = new Uint8Array(need);
      this.#scratchView = new DataView(this.#scratch.buffer);
    }
    const s = this.#scratch;
    const v = this.#scratchView;
    s.set(whole ? bytes : bytes.subarray(0, end));
    s[2] = lengthField >>> 8;
    s[3] = lengthField & 0xff;
    s[end] = 0x80;
    s.fill(0, end + 1, size - 4);
    v.setUint32(size - 4, (64 + end) * 8);
    const c = this.#c;
    const is = this.#innerState;
    c.set(is[0]!, is[1]!, is[2]!, is[3]!, is[4]!, is[5]!, is[6]!, is[7]!);
    for (let o = 0; o < size; o += 64) c.process(v, o);
    const d = c.get();
    const ov = this.#outerView;
    const words = this.#words;
    for (let i = 0; i < words; i++) ov.setUint32(4 * i, d[i]!);
    const os = this.#outerState;
    c.set(os[0]!, os[1]!, os[2]!, os[3]!, os[4]!, os[5]!, os[6]!, os[7]!);
    c.process(ov, 0);
    const r = c.get();
    for (let i = 0; i < words; i++) {
      const w = r[i]!;
      out[4 * i] = w >>> 24;
      out[4 * i + 1] = (w >>> 16) & 0xff;
      out[4 * i + 2] = (w >>> 8) & 0xff;
      out[4 * i + 3] = w & 0xff;
    }
    // Keep noble's hygiene: its shared message schedule must not retain key-derived words.
    c.roundClean();
  }
}

const selfTested = new Map<HashFn, boolean>();

/** Whether {@link BlockHmac} computes exactly what noble's `hmac` does for `hash`. */
function blockHmacWorks(hash: HashFn): boolean {
  let ok = selfTested.get(hash);
  if (ok !== undefined) return ok;
  ok = false;
  try {
    const probe = hash.create() as Partial<Compressor>;
    if (
      typeof probe.process === 'function' &&
      typeof probe.get === 'function' &&
      typeof probe.set === 'function' &&
      typeof probe.roundClean === 'function'
    ) {
      // Messages that end in each padding case (0..2 extra blocks), a key over the block size.
      ok = true;
      for (const [len, keyLen] of [
        [20, 5],
        [55, 64],
        [56, 65],
        [120, 100],
        [200, 3],
      ] as const) {
        const key = Uint8Array.from({ length: keyLen }, (_, i) => (i * 7 + 1) & 0xff);
        const msg = Uint8Array.from({ length: len }, (_, i) => (i * 13 + 5) & 0xff);
        const want = hmac(hash as never, key, msg) as Uint8Array;
        const got = new Uint8Array(hash.outputLen);
        new BlockHmac(hash, key).mac(msg, len, (msg[2]! << 8) | msg[3]!, got);
        for (let i = 0; i < want.length; i++) if (want[i] !== got[i]) ok = false;
      }
    }
  } catch {
    ok = false;
  }
  selfTested.set(hash, ok);
  return ok;
}

/** The fastest correct HMAC for `hash` and `key`. */
export function createStunMac(hash: HashFn, key: Uint8Array): StunMac {
  return blockHmacWorks(hash) ? new BlockHmac(hash, key) : new StreamHmac(hash, key);
}
