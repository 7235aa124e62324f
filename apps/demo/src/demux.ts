/**
 * First-byte demultiplexing (RFC 7983 §7, as updated by RFC 9443 §3) and a zero-allocation
 * peek at the few STUN header fields a multiplexer routes on. Full decoding and integrity
 * checks stay with the child that owns the datagram: the router must be cheaper than the
 * machines behind it.
 */

/** What the first byte of a datagram says it is. */
export type PacketClass = 'stun' | 'zrtp' | 'dtls' | 'turn-channel' | 'rtp' | 'unknown';

/**
 * RFC 9443 §3:
 * ```
 *  [0..3] -+--> forward to STUN        [64..79]  -+--> forward to TURN Channel
 * [16..19] -+--> forward to ZRTP       [128..191] -+--> forward to RTP/RTCP
 * [20..63] -+--> forward to DTLS       anything else: drop
 * ```
 */
export function classify(firstByte: number): PacketClass {
  if (firstByte <= 3) return 'stun';
  if (firstByte < 16) return 'unknown';
  if (firstByte <= 19) return 'zrtp';
  if (firstByte <= 63) return 'dtls';
  if (firstByte <= 79) return 'turn-channel';
  if (firstByte < 128) return 'unknown';
  if (firstByte <= 191) return 'rtp';
  return 'unknown';
}

export const HEADER_LENGTH = 20;
export const MAGIC_COOKIE = 0x2112a442;
export const BINDING = 0x001;
export const ATTR_USERNAME = 0x0006;
export const ATTR_MESSAGE_INTEGRITY = 0x0008;

/** STUN classes (RFC 8489 §5). */
export const CLASS_REQUEST = 0;
export const CLASS_INDICATION = 1;
export const CLASS_SUCCESS = 2;
export const CLASS_ERROR = 3;

/**
 * Whether `b` has a plausible STUN header: long enough, top two bits zero, a length field that
 * is a multiple of 4 and matches the datagram. The magic cookie is not required so RFC 3489
 * clients still reach the server role (it decides what to do with them).
 */
export function isStunFrame(b: Uint8Array): boolean {
  if (b.length < HEADER_LENGTH || (b[0]! & 0xc0) !== 0) return false;
  const len = (b[2]! << 8) | b[3]!;
  return (len & 3) === 0 && HEADER_LENGTH + len === b.length;
}

export function stunClass(b: Uint8Array): number {
  const t = (b[0]! << 8) | b[1]!;
  return ((t >> 7) & 2) | ((t >> 4) & 1);
}

export function stunMethod(b: Uint8Array): number {
  const t = (b[0]! << 8) | b[1]!;
  return (t & 0xf) | ((t >> 1) & 0x70) | ((t >> 2) & 0xf80);
}

/**
 * A Map key for the transaction: bytes 4..20 (magic cookie + 96-bit ID for RFC 8489, the whole
 * 128-bit ID for RFC 3489), as a 16-char string. One small string per lookup; no decoding.
 */
export function transactionKey(b: Uint8Array): string {
  return String.fromCharCode(
    b[4]!,
    b[5]!,
    b[6]!,
    b[7]!,
    b[8]!,
    b[9]!,
    b[10]!,
    b[11]!,
    b[12]!,
    b[13]!,
    b[14]!,
    b[15]!,
    b[16]!,
    b[17]!,
    b[18]!,
    b[19]!,
  );
}

/**
 * Offset of the first attribute of `type`, or -1 (also when the attribute list is malformed).
 * The value starts at `offset + 4`; its length is at `offset + 2`.
 */
export function findAttribute(b: Uint8Array, type: number): number {
  let off = HEADER_LENGTH;
  while (off + 4 <= b.length) {
    const t = (b[off]! << 8) | b[off + 1]!;
    const len = (b[off + 2]! << 8) | b[off + 3]!;
    if (off + 4 + len > b.length) return -1;
    if (t === type) return off;
    off += 4 + ((len + 3) & ~3);
  }
  return -1;
}

/**
 * The ufrag the sender addressed: the part of USERNAME before the first `:` (RFC 8445 §7.2.2:
 * `USERNAME = <receiver ufrag>:<sender ufrag>`), or `undefined` without a USERNAME.
 * ufrags are ice-chars (ASCII), so a byte-wise decode is exact.
 */
export function usernameUfrag(b: Uint8Array): string | undefined {
  const at = findAttribute(b, ATTR_USERNAME);
  if (at < 0) return undefined;
  const len = (b[at + 2]! << 8) | b[at + 3]!;
  const start = at + 4;
  let end = start;
  const stop = start + len;
  while (end < stop && b[end] !== 0x3a) end++;
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** The sender's ufrag: the part of USERNAME after the first `:` (RFC 8445 §7.2.2), or `undefined`. */
export function usernameSenderUfrag(b: Uint8Array): string | undefined {
  const at = findAttribute(b, ATTR_USERNAME);
  if (at < 0) return undefined;
  const len = (b[at + 2]! << 8) | b[at + 3]!;
  const stop = at + 4 + len;
  let i = at + 4;
  while (i < stop && b[i] !== 0x3a) i++;
  if (i === stop) return undefined;
  let s = '';
  for (let k = i + 1; k < stop; k++) s += String.fromCharCode(b[k]!);
  return s;
}
