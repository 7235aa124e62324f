import type { RandomSource, SocketAddress } from '@natkit/sans-io';
import { formatNonceCookie } from '@natkit/stun-codec';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { addressKey } from './address.ts';
import { base64urlDecode, base64urlEncode } from './base64url.ts';

/** `obMatJos2` + four base64 characters of security-feature bits (RFC 8489 §9.2). */
const NONCE_COOKIE_LENGTH = 13;
const MAC_BYTES = 12;
const EXPIRY_BYTES = 6;
const encoder = new TextEncoder();

export type NonceVerdict = 'valid' | 'stale' | 'invalid';

/**
 * Stateless long-term-credential nonces (RFC 8489 §9.2.2, §9.2.4): the nonce is
 * `cookie ‖ base64url(expiry ‖ HMAC-SHA256(secret, expiry ‖ cookie ‖ client address)[0..12])`.
 * The server remembers nothing per client: it re-derives the MAC to check a nonce, so a flood of
 * requests costs CPU only. Binding the client's transport address into the MAC keeps a nonce from
 * being reused from another source address, as §9.2.4 requires.
 */
export class NonceIssuer {
  readonly #secret: Uint8Array;
  readonly #lifetime: number;
  readonly #cookie: string;

  constructor(options: {
    random: RandomSource;
    lifetime: number;
    features: { passwordAlgorithms: boolean; usernameAnonymity: boolean };
    secret?: Uint8Array;
  }) {
    if (!(options.lifetime > 0)) throw new RangeError('nonce lifetime must be > 0');
    this.#lifetime = options.lifetime;
    this.#cookie = formatNonceCookie(options.features);
    if (options.secret !== undefined) {
      this.#secret = options.secret.slice();
    } else {
      this.#secret = new Uint8Array(32);
      options.random(this.#secret);
    }
  }

  /** A fresh nonce for `client`, valid until `now + lifetime`. */
  issue(client: SocketAddress, now: number): string {
    const body = new Uint8Array(EXPIRY_BYTES + MAC_BYTES);
    writeUint48(body, Math.max(0, Math.floor(now + this.#lifetime)));
    body.set(this.#mac(body.subarray(0, EXPIRY_BYTES), client), EXPIRY_BYTES);
    return this.#cookie + base64urlEncode(body);
  }

  /** `valid`, `stale` (ours but expired) or `invalid` (not ours, wrong client, garbled). */
  check(nonce: string, client: SocketAddress, now: number): NonceVerdict {
    if (!nonce.startsWith(this.#cookie)) return 'invalid';
    const body = base64urlDecode(nonce.slice(NONCE_COOKIE_LENGTH));
    if (body === undefined || body.length !== EXPIRY_BYTES + MAC_BYTES) return 'invalid';
    const mac = this.#mac(body.subarray(0, EXPIRY_BYTES), client);
    let diff = 0;
    for (let i = 0; i < MAC_BYTES; i++) diff |= mac[i]! ^ body[EXPIRY_BYTES + i]!;
    if (diff !== 0) return 'invalid';
    return readUint48(body) > now ? 'valid' : 'stale';
  }

  #mac(expiry: Uint8Array, client: SocketAddress): Uint8Array {
    const who = encoder.encode(`${this.#cookie}|${addressKey(client)}`);
    const msg = new Uint8Array(expiry.length + who.length);
    msg.set(expiry);
    msg.set(who, expiry.length);
    return hmac(sha256, this.#secret, msg).subarray(0, MAC_BYTES);
  }
}

function writeUint48(out: Uint8Array, v: number): void {
  const hi = Math.floor(v / 2 ** 32);
  const lo = v >>> 0;
  out[0] = (hi >>> 8) & 0xff;
  out[1] = hi & 0xff;
  out[2] = lo >>> 24;
  out[3] = (lo >>> 16) & 0xff;
  out[4] = (lo >>> 8) & 0xff;
  out[5] = lo & 0xff;
}

function readUint48(b: Uint8Array): number {
  return ((b[0]! << 8) | b[1]!) * 2 ** 32 + (((b[2]! << 24) | (b[3]! << 16) | (b[4]! << 8) | b[5]!) >>> 0);
}
