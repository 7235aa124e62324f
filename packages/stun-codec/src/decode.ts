/** Header checks, demultiplexing and the one-pass attribute index (RFC 8489 §5, §6.3, §14). */
import { HEADER_LENGTH, isKnownAttribute } from './constants.ts';
import { StunMessage } from './message.ts';

/** Why a datagram is not a usable STUN message. */
export type DecodeErrorReason =
  /** Shorter than the 20-byte header. */
  | 'too-short'
  /** One of the two top bits of the first byte is set (RFC 8489 §5): not STUN. */
  | 'not-stun'
  /** The header Length is not a multiple of 4. */
  | 'bad-length'
  /** 20 + header Length differs from the datagram size. */
  | 'length-mismatch'
  /** An attribute's value runs past the end of the message. */
  | 'attribute-overrun'
  /** An attribute follows MESSAGE-INTEGRITY(-SHA256) where it may not (only with `afterIntegrity: 'reject'`). */
  | 'after-integrity'
  /** An attribute follows FINGERPRINT, which must be last (RFC 8489 §14.7). */
  | 'after-fingerprint';

export interface DecodeError {
  reason: DecodeErrorReason;
  /** Byte offset the problem was found at. */
  offset: number;
  /** Human-readable detail. */
  message: string;
}

export type DecodeResult = { ok: true; message: StunMessage } | { ok: false; error: DecodeError };

export interface DecodeOptions {
  /**
   * What to do with attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256
   * and FINGERPRINT, and after MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT.
   * `'ignore'` (default, RFC 8489 §14.5/§14.6): leave them out of the index and count them in
   * `ignoredAfterIntegrity`. `'reject'`: fail with `after-integrity`.
   */
  afterIntegrity?: 'ignore' | 'reject';
}

const NO_UNKNOWN: readonly number[] = Object.freeze([]);

/**
 * At most this many distinct unknown comprehension-required types are listed. A 64 KB
 * datagram can hold 16 000 empty attributes; deduplicating an unbounded list would make
 * decode quadratic, and a 420 that names the first 64 is answer enough.
 */
export const MAX_UNKNOWN_REQUIRED = 64;

/**
 * Cheap STUN check for demultiplexing (RFC 8489 §5, RFC 7983): at least 20 bytes, top two bits
 * zero, magic cookie, Length a multiple of 4 that matches the datagram. Classic RFC 3489
 * messages (no cookie) are not recognised here; {@link decode} does recognise them.
 */
export function isStun(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < HEADER_LENGTH || (bytes[0]! & 0xc0) !== 0) return false;
  const len = (bytes[2]! << 8) | bytes[3]!;
  return (
    (len & 3) === 0 &&
    HEADER_LENGTH + len === n &&
    bytes[4] === 0x21 &&
    bytes[5] === 0x12 &&
    bytes[6] === 0xa4 &&
    bytes[7] === 0x42
  );
}

/**
 * The failure result. The message is composed here, from numbers, rather than at the call
 * sites: TurboFan hoists a number-to-string conversion that two failure branches share to
 * above both, so a template literal at each `return` in {@link decode} cost every successful
 * decode a `NumberToString` call. This function only runs on failures, so it is not inlined.
 */
function fail(reason: DecodeErrorReason, offset: number, a: number, b: number): DecodeResult {
  return { ok: false, error: { reason, offset, message: describe(reason, a, b) } };
}

function describe(reason: DecodeErrorReason, a: number, b: number): string {
  switch (reason) {
    case 'too-short':
      return `${a} bytes is shorter than the 20-byte header`;
    case 'not-stun':
      return 'the two top bits of the first byte are not zero';
    case 'bad-length':
      return `message length ${a} is not a multiple of 4`;
    case 'length-mismatch':
      return `message length ${a} + 20 does not match the ${b}-byte datagram`;
    case 'attribute-overrun':
      return `attribute 0x${hex(a)} of length ${b} runs past the end`;
    case 'after-integrity':
      return `attribute 0x${hex(a)} follows MESSAGE-INTEGRITY`;
    case 'after-fingerprint':
      return 'an attribute follows FINGERPRINT';
    default: {
      const never: never = reason;
      return never;
    }
  }
}

// Where in the "what may follow" rules (RFC 8489 §14.5–§14.7) the tail loop is.
const AFTER_MI = 1;
const AFTER_MI256 = 2;
const AFTER_FP = 3;

/**
 * Decodes a datagram into a {@link StunMessage} view without copying it. Never throws: every
 * failure is `{ ok: false, error }`. A message without the magic cookie that is otherwise
 * well-formed is an RFC 3489 ("classic") message: `ok` with `message.classic === true`.
 *
 * One pass in two loops. The first walks the plain attributes (bounds, unknown
 * comprehension-required types) up to the first MESSAGE-INTEGRITY(-SHA256) or FINGERPRINT;
 * the second applies the "what may follow" rules (RFC 8489 §14.5–§14.7) to the few
 * attributes from there on. So the loop every attribute goes through is a bounds check and
 * a bit test. Type numbers in the loops are literals, named in comments: reading them from
 * `AttrType`, an imported object, costs a load each. The known-type masks are
 * `isKnownAttribute` (constants.ts) as bits over types 0..31 and 32..63 (no known
 * comprehension-required type is 64 or above); a test checks the two agree for every type.
 */
export function decode(bytes: Uint8Array, options?: DecodeOptions): DecodeResult {
  const n = bytes.length;
  if (n < 20) return fail('too-short', 0, n, 0);
  if ((bytes[0]! & 0xc0) !== 0) return fail('not-stun', 0, 0, 0);
  const len = (bytes[2]! << 8) | bytes[3]!;
  if ((len & 3) !== 0) return fail('bad-length', 2, len, 0);
  if (len + 20 !== n) return fail('length-mismatch', 2, len, n);
  // Offset of the first unknown comprehension-required attribute. The list itself is built
  // by a second pass from there, only when there is one: a call inside this loop (to grow a
  // list) would make TurboFan reload the byte array's length and base on every iteration.
  let firstUnknown = -1;
  // Bit 34 - o/4: a plain attribute starts at o (see StunMessage). Computed off the chain of
  // dependent length reads this loop is bound by, so it costs next to nothing here, and it
  // lets walks and lookups visit the attributes without re-reading that chain.
  let starts = 0;
  let last = 20;
  // Every attribute starts 4-aligned and n - 20 is a multiple of 4, so a value that ends
  // inside the message also has its padding inside, and 4 header bytes always remain.
  // Offsets step as `(off + alen + 7) & 0x1fffc`: once `off + 4 + alen <= n` holds (and
  // n <= 65,555), that is `off + 4 + pad4(alen)` exactly, and the mask (a literal, like the
  // type numbers) tells the JIT that offsets stay below 2^17, so `off + 1` .. `off + 4` need
  // no overflow checks.
  let off = 20;
  // The type and value length at `off`; after the loop, those of the first tail attribute.
  let type = 0;
  let alen = 0;
  for (; off < n; ) {
    type = (bytes[off]! << 8) | bytes[off + 1]!;
    alen = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    if (off + 4 + alen > n) return fail('attribute-overrun', off, type, alen);
    if (type < 32) {
      // MESSAGE-INTEGRITY (0x0008) or MESSAGE-INTEGRITY-SHA256 (0x001C): on to the tail.
      if (((0x10000100 >>> type) & 1) !== 0) break;
      if (((0x77fc374a >>> type) & 1) === 0 && firstUnknown < 0) firstUnknown = off;
    } else if (type < 0x8000) {
      if ((type >= 64 || ((0xf5 >>> (type - 32)) & 1) === 0) && firstUnknown < 0) firstUnknown = off;
    } else if (type === 0x8028 /* FINGERPRINT */) break;
    // Bits 29 (offset 20) down to 1 (offset 132). A later start sets a wrong bit (or none),
    // but then `last` is past 132 and the bit set is not used.
    starts |= 0x20000000 >>> ((off - 20) >>> 2);
    last = off;
    off = (off + alen + 7) & 0x1fffc;
  }
  const end = off;
  let mi = -1;
  let mi256 = -1;
  let fp = -1;
  if (off < n) {
    // `off` is the first MI, MI-SHA256 or FINGERPRINT (`type`, `alen`), bounds-checked. The
    // usual tails (each of the three at most once, in that order, nothing else) are checked
    // here straight through, without a loop; anything else ends in the general loop below.
    if (type === 0x0008 /* MESSAGE-INTEGRITY */) {
      mi = off;
      off = (off + alen + 7) & 0x1fffc;
      if (off < n) {
        type = (bytes[off]! << 8) | bytes[off + 1]!;
        alen = (bytes[off + 2]! << 8) | bytes[off + 3]!;
        if (off + 4 + alen > n) return fail('attribute-overrun', off, type, alen);
      }
    }
    if (off < n && type === 0x001c /* MESSAGE-INTEGRITY-SHA256 */) {
      mi256 = off;
      off = (off + alen + 7) & 0x1fffc;
      if (off < n) {
        type = (bytes[off]! << 8) | bytes[off + 1]!;
        alen = (bytes[off + 2]! << 8) | bytes[off + 3]!;
        if (off + 4 + alen > n) return fail('attribute-overrun', off, type, alen);
      }
    }
    if (off < n && type === 0x8028 /* FINGERPRINT */) {
      fp = off;
      off = (off + alen + 7) & 0x1fffc;
      if (off < n) return fail('after-fingerprint', off, 0, 0);
    }
  }
  if (off < n) {
    // Something the integrity attributes do not allow after them (RFC 8489 §14.5–§14.7),
    // at `off`, bounds-checked. From here on one attribute at a time, by state.
    let state = mi256 >= 0 ? AFTER_MI256 : AFTER_MI;
    for (;;) {
      const type = (bytes[off]! << 8) | bytes[off + 1]!;
      const next = (off + ((bytes[off + 2]! << 8) | bytes[off + 3]!) + 7) & 0x1fffc;
      if (type === 0x8028 /* FINGERPRINT */) {
        fp = off;
        state = AFTER_FP;
      } else if (type === 0x001c /* MESSAGE-INTEGRITY-SHA256 */ && state < AFTER_MI256) {
        mi256 = off;
        state = AFTER_MI256;
      } else if (options !== undefined && options.afterIntegrity === 'reject') {
        return fail('after-integrity', off, type, 0);
      }
      // else: RFC 8489 §14.5/§14.6, ignored (StunMessage counts them on demand).
      off = next;
      if (off >= n) break;
      if (state === AFTER_FP) return fail('after-fingerprint', off, 0, 0);
      const alen = (bytes[off + 2]! << 8) | bytes[off + 3]!;
      if (off + 4 + alen > n)
        return fail('attribute-overrun', off, (bytes[off]! << 8) | bytes[off + 1]!, alen);
    }
  }
  // The message is its own success result (`ok` and `message` are getters on StunMessage).
  return new StunMessage(
    bytes,
    firstUnknown < 0 ? NO_UNKNOWN : unknownRequired(bytes, firstUnknown, end),
    last <= 132 ? starts : ~end,
    mi,
    mi256,
    fp,
  );
}

/**
 * The distinct unknown comprehension-required types among the (already validated) attributes
 * in `bytes[from..end)`, at most {@link MAX_UNKNOWN_REQUIRED} of them, in wire order.
 */
function unknownRequired(bytes: Uint8Array, from: number, end: number): number[] {
  const list: number[] = [];
  for (let off = from; off < end; off += 4 + ((((bytes[off + 2]! << 8) | bytes[off + 3]!) + 3) & ~3)) {
    const type = (bytes[off]! << 8) | bytes[off + 1]!;
    if (type < 0x8000 && !isKnownAttribute(type) && !list.includes(type)) {
      list.push(type);
      if (list.length === MAX_UNKNOWN_REQUIRED) break;
    }
  }
  return list;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
