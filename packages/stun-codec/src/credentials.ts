/**
 * Key derivation for short-term and long-term credentials (RFC 8489 §9.1.1, §9.2.2) and
 * USERHASH (RFC 8489 §14.4).
 */
import { md5 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8Encode } from './text.ts';

// Unicode space separators (general category Zs) other than U+0020.
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g;

/**
 * Approximates the PRECIS OpaqueString profile (RFC 8265 §4.2) that RFC 8489 applies to
 * usernames, realms and passwords: non-ASCII spaces become U+0020 and the string is NFC
 * normalised. It does not reject the code points the FreeformClass disallows (control
 * characters, unassigned code points); such input is hashed as is instead of failing.
 */
export function opaqueString(s: string): string {
  // Pure ASCII is already in its final form: skip the normalisation.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ASCII range on purpose
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return s.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
}

/** The short-term credential key: the OpaqueString-prepared password in UTF-8 (RFC 8489 §9.1.1). */
export function shortTermKey(password: string): Uint8Array {
  return utf8Encode(opaqueString(password));
}

/**
 * The long-term credential key (RFC 8489 §9.2.2):
 * `MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))` (16 bytes), or SHA-256 of
 * the same string (32 bytes) when PASSWORD-ALGORITHM is SHA-256. As §9.2.2 says, quotes and
 * trailing NULs are removed from the username and realm, and trailing NULs from the password,
 * so a key made from values as they arrived in USERNAME / REALM (which a peer may have
 * NUL-terminated) matches the one made from the plain strings.
 */
export function longTermKey(
  username: string,
  realm: string,
  password: string,
  algorithm: 'md5' | 'sha256' = 'md5',
): Uint8Array {
  const u = opaqueString(unquote(username));
  const r = opaqueString(unquote(realm));
  const p = opaqueString(password.replace(TRAILING_NULS, ''));
  const input = utf8Encode(`${u}:${r}:${p}`);
  return algorithm === 'sha256' ? sha256(input) : md5(input);
}

const TRAILING_NULS = /\0+$/;
const QUOTES = /"/g;

/** §9.2.2's "with any quotes and trailing nulls removed". */
function unquote(s: string): string {
  return s.replace(QUOTES, '').replace(TRAILING_NULS, '');
}

/** USERHASH (RFC 8489 §14.4): `SHA-256(OpaqueString(username) ":" OpaqueString(realm))`, 32 bytes. */
export function userhash(username: string, realm: string): Uint8Array {
  return sha256(utf8Encode(`${opaqueString(username)}:${opaqueString(realm)}`));
}
