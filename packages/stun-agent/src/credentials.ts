import type { IntegrityKey } from '@natkit/stun-codec';

/**
 * How a request is authenticated (RFC 8489 §9).
 *
 * - `none`: no USERNAME, no integrity; responses are accepted unauthenticated.
 * - `short-term` (ICE): USERNAME + MESSAGE-INTEGRITY on every request; responses must carry a
 *   valid integrity attribute computed with the same password. `password` may be a prepared
 *   {@link IntegrityKey} (its cached HMAC state makes ICE checks cheaper). `integrity` picks the
 *   attribute(s): `sha1` (MESSAGE-INTEGRITY, what ICE uses; the default), `sha256`
 *   (MESSAGE-INTEGRITY-SHA256) or `both` (RFC 8489 §9.1.2 when nothing is known out of band).
 * - `long-term` (TURN-style): the first request goes without credentials; a 401 carrying REALM and
 *   NONCE makes the client retry with USERNAME (or USERHASH), REALM, NONCE and integrity.
 */
export type Credentials =
  | { type: 'none' }
  | {
      type: 'short-term';
      username: string;
      password: string | IntegrityKey;
      integrity?: 'sha1' | 'sha256' | 'both';
    }
  | { type: 'long-term'; username: string; password: string };

export const NO_CREDENTIALS: Credentials = { type: 'none' };
