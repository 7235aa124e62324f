/**
 * The RFC 8489 nonce cookie (§9.2, §18.1): a NONCE starting with `obMatJos2` followed by four
 * base64 characters carrying the 24-bit "STUN Security Features" field. Bit 0 is the most
 * significant bit of the first byte.
 */
export const NONCE_COOKIE_PREFIX = 'obMatJos2';
export const NONCE_COOKIE_LENGTH = 13;

/** Security feature bits of the nonce cookie (RFC 8489 §18.1). */
export interface SecurityFeatures {
  /** Bit 0: the server supports PASSWORD-ALGORITHMS (so a missing list means a bid-down). */
  passwordAlgorithms: boolean;
  /** Bit 1: the server supports USERHASH (username anonymity). */
  usernameAnonymity: boolean;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The features a nonce advertises, or `undefined` when it carries no RFC 8489 cookie. */
export function parseNonceCookie(nonce: string): SecurityFeatures | undefined {
  if (nonce.length < NONCE_COOKIE_LENGTH || !nonce.startsWith(NONCE_COOKIE_PREFIX)) return undefined;
  let bits = 0;
  for (let i = NONCE_COOKIE_PREFIX.length; i < NONCE_COOKIE_LENGTH; i++) {
    const v = B64.indexOf(nonce[i]!);
    if (v < 0) return undefined;
    bits = (bits << 6) | v;
  }
  return { passwordAlgorithms: (bits & 0x800000) !== 0, usernameAnonymity: (bits & 0x400000) !== 0 };
}

/** The 13-character cookie for `features` (e.g. `obMatJos2gAAA` for password algorithms only). */
export function formatNonceCookie(features: SecurityFeatures): string {
  const bits = (features.passwordAlgorithms ? 0x800000 : 0) | (features.usernameAnonymity ? 0x400000 : 0);
  let s = NONCE_COOKIE_PREFIX;
  for (let shift = 18; shift >= 0; shift -= 6) s += B64[(bits >>> shift) & 63];
  return s;
}
