/** Verifying MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (RFC 8489 §14.5–§14.7). */
import { AttrType, FINGERPRINT_XOR, HEADER_LENGTH } from './constants.ts';
import { crc32 } from './crc32.ts';
import { constantTimeEqual, type IntegrityKey, toIntegrityKey } from './integrity-key.ts';
import type { StunMessage } from './message.ts';

/**
 * `ok`: present and correct. `absent`: the message has no such attribute. `mismatch`: present
 * but wrong, or malformed (bad length, truncated below the allowed minimum).
 */
export type IntegrityVerdict = 'ok' | 'absent' | 'mismatch';

const mac = new Uint8Array(32);

/**
 * Checks MESSAGE-INTEGRITY (HMAC-SHA1): the HMAC of the message up to the attribute, with the
 * header Length covering the message up to and including it (RFC 8489 §14.5). The comparison
 * is constant-time.
 */
export function verifyMessageIntegrity(msg: StunMessage, key: IntegrityKey | Uint8Array): IntegrityVerdict {
  const o = msg.offsetOf(AttrType.MessageIntegrity);
  if (o < 0) return 'absent';
  const b = msg.bytes;
  if (b[o + 2] !== 0 || b[o + 3] !== 20) return 'mismatch';
  toIntegrityKey(key).mac('sha1', b, o, o + 24 - HEADER_LENGTH, mac);
  return constantTimeEqual(mac, b, o + 4, 20) ? 'ok' : 'mismatch';
}

export interface Sha256VerifyOptions {
  /**
   * The shortest MESSAGE-INTEGRITY-SHA256 to accept. RFC 8489 §14.6: 32 (the default) unless
   * the STUN usage explicitly allows truncation, and never below 16.
   */
  minLength?: number;
}

/**
 * Checks MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated to 16..32 bytes in steps of
 * 4, RFC 8489 §14.6). Values shorter than `options.minLength` (default 32) are a `mismatch`.
 */
export function verifyMessageIntegritySha256(
  msg: StunMessage,
  key: IntegrityKey | Uint8Array,
  options?: Sha256VerifyOptions,
): IntegrityVerdict {
  const o = msg.offsetOf(AttrType.MessageIntegritySha256);
  if (o < 0) return 'absent';
  const b = msg.bytes;
  const len = (b[o + 2]! << 8) | b[o + 3]!;
  const min = Math.max(16, options?.minLength ?? 32);
  if (len < min || len > 32 || len % 4 !== 0) return 'mismatch';
  toIntegrityKey(key).mac('sha256', b, o, o + 4 + len - HEADER_LENGTH, mac);
  return constantTimeEqual(mac, b, o + 4, len) ? 'ok' : 'mismatch';
}

/**
 * Checks FINGERPRINT: CRC-32 of the message before it, XOR 0x5354554e (RFC 8489 §14.7).
 * {@link decode} already guarantees a FINGERPRINT is the last attribute.
 */
export function verifyFingerprint(msg: StunMessage): IntegrityVerdict {
  const o = msg.offsetOf(AttrType.Fingerprint);
  if (o < 0) return 'absent';
  const b = msg.bytes;
  if (b[o + 2] !== 0 || b[o + 3] !== 4) return 'mismatch';
  const want = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
  return (crc32(b, 0, o) ^ FINGERPRINT_XOR) >>> 0 === want ? 'ok' : 'mismatch';
}
