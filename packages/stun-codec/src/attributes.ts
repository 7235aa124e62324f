/**
 * Parsers for attribute values. Each takes the value view (no TLV header, no padding) and
 * returns `undefined` when the value is malformed for its type.
 */
import { AttrType } from './constants.ts';
import { utf8Decode } from './text.ts';

/**
 * The largest USERNAME / REALM / NONCE / SOFTWARE / reason phrase a receiver must accept
 * (RFC 8489 §14.3: 763 bytes, kept for RFC 5389 compatibility). Longer values are malformed.
 */
export const MAX_TEXT_BYTES = 763;

/** A bounded UTF-8 text value (USERNAME, REALM, NONCE, SOFTWARE). */
export function parseText(value: Uint8Array): string | undefined {
  if (value.length > MAX_TEXT_BYTES) return undefined;
  return utf8Decode(value);
}

/** ERROR-CODE (RFC 8489 §14.8): class 3..6, number 0..99, UTF-8 reason. */
export function parseErrorCode(value: Uint8Array): { code: number; reason: string } | undefined {
  if (value.length < 4 || value.length > 4 + MAX_TEXT_BYTES) return undefined;
  const cls = value[2]! & 0x07;
  const num = value[3]!;
  if (cls < 3 || cls > 6 || num > 99) return undefined;
  const reason = utf8Decode(value.subarray(4));
  if (reason === undefined) return undefined;
  return { code: cls * 100 + num, reason };
}

/** ADDRESS-ERROR-CODE (RFC 8656 §18.12): family byte, then an ERROR-CODE-like body. */
export function parseAddressErrorCode(
  value: Uint8Array,
): { family: 'IPv4' | 'IPv6'; code: number; reason: string } | undefined {
  if (value.length < 4) return undefined;
  const family = familyName(value[0]!);
  if (family === undefined) return undefined;
  const ec = parseErrorCode(value);
  if (ec === undefined) return undefined;
  return { family, code: ec.code, reason: ec.reason };
}

/** UNKNOWN-ATTRIBUTES (RFC 8489 §14.13): a list of 16-bit types. */
export function parseUnknownAttributes(value: Uint8Array): number[] | undefined {
  if (value.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 2) out.push((value[i]! << 8) | value[i + 1]!);
  return out;
}

/** One password algorithm entry (RFC 8489 §14.11, §14.12). */
export interface PasswordAlgorithmEntry {
  algorithm: number;
  /** A view of the parameters (empty for MD5 and SHA-256). */
  params: Uint8Array;
}

/** PASSWORD-ALGORITHMS (RFC 8489 §14.11): entries of algorithm, params length, padded params. */
export function parsePasswordAlgorithms(value: Uint8Array): PasswordAlgorithmEntry[] | undefined {
  const out: PasswordAlgorithmEntry[] = [];
  let o = 0;
  while (o < value.length) {
    if (o + 4 > value.length) return undefined;
    const algorithm = (value[o]! << 8) | value[o + 1]!;
    const plen = (value[o + 2]! << 8) | value[o + 3]!;
    if (o + 4 + plen > value.length) return undefined;
    out.push({ algorithm, params: value.subarray(o + 4, o + 4 + plen) });
    o += 4 + ((plen + 3) & ~3);
  }
  return out;
}

/**
 * PASSWORD-ALGORITHM (RFC 8489 §14.12): exactly one entry. The parameters' padding may or may
 * not be counted in the attribute Length (the RFC pads them "in the same manner as an
 * attribute"); both are accepted.
 */
export function parsePasswordAlgorithm(value: Uint8Array): PasswordAlgorithmEntry | undefined {
  if (value.length < 4) return undefined;
  const plen = (value[2]! << 8) | value[3]!;
  if (4 + plen !== value.length && 4 + ((plen + 3) & ~3) !== value.length) return undefined;
  return { algorithm: (value[0]! << 8) | value[1]!, params: value.subarray(4, 4 + plen) };
}

/** A big-endian unsigned 32-bit integer from a 4-byte value. */
export function parseUint32(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
}

/** A big-endian unsigned 64-bit integer from an 8-byte value. */
export function parseUint64(value: Uint8Array): bigint | undefined {
  if (value.length !== 8) return undefined;
  const hi = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
  const lo = ((value[4]! << 24) | (value[5]! << 16) | (value[6]! << 8) | value[7]!) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** CHANGE-REQUEST (RFC 5780 §7.2). */
export function parseChangeRequest(
  value: Uint8Array,
): { changeIp: boolean; changePort: boolean } | undefined {
  if (value.length !== 4) return undefined;
  return { changeIp: (value[3]! & 0x04) !== 0, changePort: (value[3]! & 0x02) !== 0 };
}

/** RESPONSE-PORT (RFC 5780 §7.5): port, then 2 bytes to ignore. */
export function parseResponsePort(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return (value[0]! << 8) | value[1]!;
}

/** CHANNEL-NUMBER (RFC 8656 §18.1): channel, then 2 RFFU bytes. */
export function parseChannelNumber(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return (value[0]! << 8) | value[1]!;
}

/** `0x01`/`0x02` → `'IPv4'`/`'IPv6'`. */
export function familyName(byte: number): 'IPv4' | 'IPv6' | undefined {
  return byte === 0x01 ? 'IPv4' : byte === 0x02 ? 'IPv6' : undefined;
}

/** REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.6, §18.11). */
export function parseAddressFamily(value: Uint8Array): 'IPv4' | 'IPv6' | undefined {
  if (value.length !== 4) return undefined;
  return familyName(value[0]!);
}

/** EVEN-PORT (RFC 8656 §18.7): one byte whose top bit asks to reserve the next port. */
export function parseEvenPort(value: Uint8Array): { reserveNext: boolean } | undefined {
  if (value.length !== 1) return undefined;
  return { reserveNext: (value[0]! & 0x80) !== 0 };
}

/** REQUESTED-TRANSPORT (RFC 8656 §18.8): protocol number, then 3 RFFU bytes. */
export function parseRequestedTransport(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return value[0]!;
}

/** ICMP (RFC 8656 §18.13): 2 reserved bytes, type, code, 32-bit error data. */
export function parseIcmp(value: Uint8Array): { type: number; code: number; data: number } | undefined {
  if (value.length !== 8) return undefined;
  return {
    type: value[2]!,
    code: value[3]!,
    data: ((value[4]! << 24) | (value[5]! << 16) | (value[6]! << 8) | value[7]!) >>> 0,
  };
}

/** ALTERNATE-DOMAIN (RFC 8489 §14.16): an ASCII DNS name of at most 255 characters. */
export function parseAlternateDomain(value: Uint8Array): string | undefined {
  if (value.length === 0 || value.length > 255) return undefined;
  let s = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c <= 0x20 || c >= 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Attribute names, for messages and debugging. */
export function attributeName(type: number): string {
  for (const [name, code] of Object.entries(AttrType)) if (code === type) return name;
  return `0x${type.toString(16).padStart(4, '0')}`;
}
