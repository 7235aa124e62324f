/**
 * The RFC 8489 nonce cookie (§9.2): servers that support the new security features start
 * their NONCE with `obMatJos2` followed by the 24-bit STUN Security Features set in base64
 * (four characters). The client learns from it that PASSWORD-ALGORITHMS / USERHASH may be
 * used and detects bid-down attacks that strip them.
 */

/** The 9-character prefix that marks a nonce cookie. */
export const NONCE_COOKIE_PREFIX = 'obMatJos2';

/**
 * Security feature bits (RFC 8489 §18.1). Bit 0 is the most significant bit of the 24-bit
 * field (the RFC numbers bits MSB-first), hence these masks.
 */
export const SecurityFeature = { PasswordAlgorithms: 0x800000, UsernameAnonymity: 0x400000 } as const;

export interface NonceCookie {
  /** The raw 24-bit feature set. */
  features: number;
  passwordAlgorithms: boolean;
  usernameAnonymity: boolean;
  /** The rest of the nonce after the 13-character cookie. */
  rest: string;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Reads the nonce cookie, or `undefined` when `nonce` does not start with a well-formed one. */
export function parseNonceCookie(nonce: string): NonceCookie | undefined {
  if (nonce.length < 13 || !nonce.startsWith(NONCE_COOKIE_PREFIX)) return undefined;
  let features = 0;
  for (let i = 9; i < 13; i++) {
    const v = B64.indexOf(nonce[i]!);
    if (v < 0) return undefined;
    features = (features << 6) | v;
  }
  return {
    features,
    passwordAlgorithms: (features & SecurityFeature.PasswordAlgorithms) !== 0,
    usernameAnonymity: (features & SecurityFeature.UsernameAnonymity) !== 0,
    rest: nonce.slice(13),
  };
}

/**
 * The 13-character nonce cookie for the given features; a server appends its own nonce text.
 * `formatNonceCookie({ passwordAlgorithms: true })` is `obMatJos2gAAA`.
 */
export function formatNonceCookie(features: {
  passwordAlgorithms?: boolean;
  usernameAnonymity?: boolean;
  /** Raw 24-bit set, ORed with the flags above. */
  bits?: number;
}): string {
  let f = (features.bits ?? 0) & 0xffffff;
  if (features.passwordAlgorithms) f |= SecurityFeature.PasswordAlgorithms;
  if (features.usernameAnonymity) f |= SecurityFeature.UsernameAnonymity;
  return (
    NONCE_COOKIE_PREFIX + B64[(f >>> 18) & 63]! + B64[(f >>> 12) & 63]! + B64[(f >>> 6) & 63]! + B64[f & 63]!
  );
}
