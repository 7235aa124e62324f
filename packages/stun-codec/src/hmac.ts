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
 *   `set` members and state fields, so it is self-tested against noble's own `hmac` before
 *   first use. A key costs a 16-number array of keyed state; the compressor and buffers
 *   are shared by all keys of a hash function.
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

/**
 * Noble's compression-level members of its Merkle–Damgård hashes (SHA-1, SHA-2): `process`
 * compresses one block from a DataView into the state, which lives in the fields `A`..`E`
 * (SHA-1) or `A`..`H` (SHA-256). Reading the fields directly skips `get()`, which allocates
 * an array per call.
 */
interface Compressor {
  process(view: DataView, offset: number): void;
  get(): number[];
  set(...words: number[]): void;
  roundClean(): void;
  A: number;
  B: number;
  C: number;
  D: number;
  E: number;
  F: number;
  G: number;
  H: number;
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

/**
 * What every {@link BlockHmac} of one hash function shares: noble's compressor, the IV, the
 * scratch buffer the padded message is laid out in, and the outer hash's single block.
 * JavaScript runs one `mac` to completion before the next starts, so one set per hash
 * function is as safe as one per key, and thousands of keys (ICE checks against many peers)
 * do not each drag their own buffers and compressor through the cache.
 */
class BlockHasher {
  readonly c: Compressor;
  /** State words: 5 for SHA-1, 8 for SHA-256. */
  readonly words: number;
  readonly iv: Int32Array;
  // The outer hash's only block: inner digest, 0x80, zeros, bit length (64 + outputLen) * 8.
  readonly outer = new Uint8Array(64);
  readonly outerView = new DataView(this.outer.buffer);
  scratch = new Uint8Array(256);
  scratchView = new DataView(this.scratch.buffer);

  constructor(hash: HashFn) {
    this.c = hash.create() as Compressor;
    this.words = hash.outputLen >>> 2;
    this.iv = Int32Array.from(this.c.get());
    this.outer[hash.outputLen] = 0x80;
    this.outerView.setUint32(60, (64 + hash.outputLen) * 8);
  }

  grow(size: number): void {
    this.scratch = new Uint8Array(size);
    this.scratchView = new DataView(this.scratch.buffer);
  }

  /** Writes the state after compressing `key ⊕ pad` from the IV into `state[at..at+8)`. */
  keyedState(hash: HashFn, key: Uint8Array, pad: number, state: number[], at: number): void {
    // The scratch is free between MACs; the key block goes in its first 64 bytes.
    const block = this.scratch;
    block.fill(0, 0, 64);
    block.set(key.length > hash.blockLen ? hash(key) : key);
    for (let i = 0; i < 64; i++) block[i] = block[i]! ^ pad;
    const c = this.c;
    const iv = this.iv;
    c.set(iv[0]!, iv[1]!, iv[2]!, iv[3]!, iv[4]!, iv[5] ?? 0, iv[6] ?? 0, iv[7] ?? 0);
    c.process(this.scratchView, 0);
    block.fill(0, 0, 64);
    const w = c.get();
    for (let i = 0; i < w.length; i++) state[at + i] = w[i]! | 0;
    c.roundClean();
  }
}

const hashers = new Map<HashFn, BlockHasher>();

function blockHasher(hash: HashFn): BlockHasher {
  let h = hashers.get(hash);
  if (h === undefined) {
    h = new BlockHasher(hash);
    hashers.set(hash, h);
  }
  return h;
}

/**
 * HMAC that feeds pre-padded blocks to noble's compression function (see the module doc).
 * Per key it holds only the two keyed states, in one 16-element array of int32 numbers: the
 * inner state in 0..7, the outer in 8..15 (SHA-1 uses five of each). Everything else is
 * shared per hash function ({@link BlockHasher}). A plain array rather than an
 * `Int32Array(16)`: V8 stores it as one small fixed array of unboxed small integers, ~90
 * bytes less per key than a typed array with its buffer object, and reads it as fast.
 */
export class BlockHmac implements StunMac {
  readonly #h: BlockHasher;
  readonly #state: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

  constructor(hash: HashFn, key: Uint8Array) {
    if (hash.blockLen !== 64 || hash.outputLen > 32) throw new Error('BlockHmac needs a 64-byte block hash');
    const h = blockHasher(hash);
    this.#h = h;
    h.keyedState(hash, key, 0x36, this.#state, 0);
    h.keyedState(hash, key, 0x5c, this.#state, 8);
  }

  mac(bytes: Uint8Array, end: number, lengthField: number, out: Uint8Array): void {
    const h = this.#h;
    // Inner: ipad state, then bytes[0..end) with the patched Length, 0x80, zeros and the
    // 64-bit bit length of everything hashed (the ipad block included).
    const size = ((end + 9 + 63) >>> 6) << 6;
    // When little follows `end` (a received datagram: just MI and FINGERPRINT), copy the
    // whole thing: a plain set() is cheaper than allocating a subarray of the prefix. Bytes
    // past `end` are overwritten by the padding or unused.
    const whole = bytes.length - end <= 64;
    const need = whole ? Math.max(size, bytes.length) : size;
    if (h.scratch.length < need) h.grow(need);
    const s = h.scratch;
    const v = h.scratchView;
    s.set(whole ? bytes : bytes.subarray(0, end));
    s[2] = lengthField >>> 8;
    s[3] = lengthField & 0xff;
    // Padding: 0x80, zeros up to the last four bytes (bytes, then words: cheaper than a
    // fill() call at these sizes), then the bit length (its high word is among the zeros).
    s[end] = 0x80;
    let i = end + 1;
    for (; (i & 3) !== 0; i++) s[i] = 0;
    for (; i < size - 4; i += 4) v.setInt32(i, 0);
    v.setUint32(size - 4, (64 + end) * 8);
    const c = h.c;
    const st = this.#state;
    c.set(st[0]!, st[1]!, st[2]!, st[3]!, st[4]!, st[5]!, st[6]!, st[7]!);
    for (let o = 0; o < size; o += 64) c.process(v, o);
    // Outer: opad state, then the inner digest in the shared, pre-padded outer block.
    const ov = h.outerView;
    ov.setInt32(0, c.A);
    ov.setInt32(4, c.B);
    ov.setInt32(8, c.C);
    ov.setInt32(12, c.D);
    ov.setInt32(16, c.E);
    const wide = h.words === 8;
    if (wide) {
      ov.setInt32(20, c.F);
      ov.setInt32(24, c.G);
      ov.setInt32(28, c.H);
    }
    c.set(st[8]!, st[9]!, st[10]!, st[11]!, st[12]!, st[13]!, st[14]!, st[15]!);
    c.process(ov, 0);
    putWord(out, 0, c.A);
    putWord(out, 4, c.B);
    putWord(out, 8, c.C);
    putWord(out, 12, c.D);
    putWord(out, 16, c.E);
    if (wide) {
      putWord(out, 20, c.F);
      putWord(out, 24, c.G);
      putWord(out, 28, c.H);
    }
    // No roundClean() here (it cost ~30 ns, a sixth of what a MAC costs besides the
    // compressions): noble's shared message schedule now holds the expansion of the outer
    // block, i.e. the inner digest, which the shared outer block holds too. Neither is
    // key material; the keyed states, which are, live in this object for the key's lifetime.
    // keyedState() does clean up after compressing the key blocks themselves.
  }
}

function putWord(out: Uint8Array, at: number, w: number): void {
  out[at] = w >>> 24;
  out[at + 1] = (w >>> 16) & 0xff;
  out[at + 2] = (w >>> 8) & 0xff;
  out[at + 3] = w & 0xff;
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
