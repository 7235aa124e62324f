/** Header checks, demultiplexing and the one-pass attribute index (RFC 8489 §5, §6.3, §14). */
import { AttrType, HEADER_LENGTH, isKnownAttribute } from './constants.ts';
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

function fail(reason: DecodeErrorReason, offset: number, message: string): DecodeResult {
  return { ok: false, error: { reason, offset, message } };
}

// Where in the "what may follow" rules (RFC 8489 §14.5–§14.7) the walk is.
const OPEN = 0;
const AFTER_MI = 1;
const AFTER_MI256 = 2;
const AFTER_FP = 3;

/**
 * Decodes a datagram into a {@link StunMessage} view without copying it. Never throws: every
 * failure is `{ ok: false, error }`. A message without the magic cookie that is otherwise
 * well-formed is an RFC 3489 ("classic") message: `ok` with `message.classic === true`.
 */
export function decode(bytes: Uint8Array, options?: DecodeOptions): DecodeResult {
  const n = bytes.length;
  if (n < HEADER_LENGTH) return fail('too-short', 0, `${n} bytes is shorter than the 20-byte header`);
  if ((bytes[0]! & 0xc0) !== 0) return fail('not-stun', 0, 'the two top bits of the first byte are not zero');
  const len = (bytes[2]! << 8) | bytes[3]!;
  if ((len & 3) !== 0) return fail('bad-length', 2, `message length ${len} is not a multiple of 4`);
  if (len + HEADER_LENGTH !== n) {
    return fail('length-mismatch', 2, `message length ${len} + 20 does not match the ${n}-byte datagram`);
  }
  const reject = options !== undefined && options.afterIntegrity === 'reject';
  let unknown: number[] | undefined;
  let state = OPEN;
  let count = 0;
  let ignored = 0;
  let end = n;
  let mi = -1;
  let mi256 = -1;
  let fp = -1;
  // Every attribute starts 4-aligned and n - 20 is a multiple of 4, so a value that ends
  // inside the message also has its padding inside, and 4 header bytes always remain.
  for (let off = HEADER_LENGTH; off < n; ) {
    const type = (bytes[off]! << 8) | bytes[off + 1]!;
    const alen = (bytes[off + 2]! << 8) | bytes[off + 3]!;
    if (state === AFTER_FP) return fail('after-fingerprint', off, 'an attribute follows FINGERPRINT');
    if (off + 4 + alen > n) {
      return fail('attribute-overrun', off, `attribute 0x${hex(type)} of length ${alen} runs past the end`);
    }
    const next = off + 4 + ((alen + 3) & ~3);
    if (type === AttrType.Fingerprint) {
      if (state === OPEN) end = off;
      fp = off;
      state = AFTER_FP;
    } else if (type === AttrType.MessageIntegritySha256 && state <= AFTER_MI) {
      if (state === OPEN) end = off;
      mi256 = off;
      state = AFTER_MI256;
    } else if (type === AttrType.MessageIntegrity && state === OPEN) {
      end = off;
      mi = off;
      state = AFTER_MI;
    } else if (state !== OPEN) {
      // RFC 8489 §14.5/§14.6: ignore what may not follow the integrity attributes.
      if (reject) return fail('after-integrity', off, `attribute 0x${hex(type)} follows MESSAGE-INTEGRITY`);
      ignored++;
      off = next;
      continue;
    } else if (type < 0x8000 && !isKnownAttribute(type)) {
      if (unknown === undefined) unknown = [type];
      else if (unknown.length < MAX_UNKNOWN_REQUIRED && !unknown.includes(type)) unknown.push(type);
    }
    count++;
    off = next;
  }
  return {
    ok: true,
    message: new StunMessage(bytes, unknown ?? NO_UNKNOWN, count, ignored, end, mi, mi256, fp),
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}
