import type { RandomSource } from '@natkit/sans-io';

/**
 * `ice-char = ALPHA / DIGIT / "+" / "/"` (RFC 8839 §5.4): 64 symbols, so one random byte masked
 * to 6 bits picks one without bias.
 */
export const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Short-term ICE credentials of one side (RFC 8445 §5.3). */
export interface IceCredentials {
  /** `ice-ufrag`: 4–256 ice-chars; we generate 8 (48 random bits ≥ the 24 required). */
  readonly ufrag: string;
  /** `ice-pwd`: 22–256 ice-chars; we generate 24 (144 random bits ≥ the 128 required). */
  readonly pwd: string;
}

/** The default RandomSource: Web Crypto, present in Node ≥ 19, Deno, Bun and browsers. */
export const defaultRandom: RandomSource = (bytes) => {
  globalThis.crypto.getRandomValues(bytes as Uint8Array<ArrayBuffer>);
};

/** `count` random ice-chars drawn from `random`. */
export function randomIceString(random: RandomSource, count: number): string {
  const bytes = new Uint8Array(count);
  random(bytes);
  let out = '';
  for (let i = 0; i < count; i++) out += ICE_CHARS[bytes[i]! & 63];
  return out;
}

/**
 * Fresh credentials for a session or an ICE restart (RFC 8839 §5.4: random per session and per
 * restart; send a ufrag of at most 32 chars).
 */
export function generateCredentials(random: RandomSource = defaultRandom): IceCredentials {
  return { ufrag: randomIceString(random, 8), pwd: randomIceString(random, 24) };
}

function isIceCharCode(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f
  );
}

/** True when `s` is `min*max` ice-chars. */
export function isIceString(s: string, min: number, max: number): boolean {
  if (s.length < min || s.length > max) return false;
  for (let i = 0; i < s.length; i++) if (!isIceCharCode(s.charCodeAt(i))) return false;
  return true;
}

/** RFC 8839 §5.4: `ice-ufrag = 4*256ice-char`. */
export function isValidUfrag(ufrag: string): boolean {
  return isIceString(ufrag, 4, 256);
}

/** RFC 8839 §5.4: `ice-pwd = 22*256ice-char`. */
export function isValidPwd(pwd: string): boolean {
  return isIceString(pwd, 22, 256);
}

/** @throws RangeError when either credential breaks the RFC 8839 §5.4 length/charset rules. */
export function assertCredentials(creds: IceCredentials, who: string): void {
  if (!isValidUfrag(creds.ufrag)) throw new RangeError(`${who} ufrag must be 4-256 ice-chars`);
  if (!isValidPwd(creds.pwd)) throw new RangeError(`${who} pwd must be 22-256 ice-chars`);
}
