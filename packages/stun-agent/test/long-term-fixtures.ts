import type { Machine } from '@natkit/sans-io';
import {
  AttrType,
  formatNonceCookie,
  MessageBuilder,
  MessageClass,
  PasswordAlgorithm,
  type StunMessage,
} from '@natkit/stun-codec';
import type { StunClient } from '../src/client.ts';
import { StunServer } from '../src/server.ts';
import { CLIENT, decodeSent, seededRandom } from './helpers.ts';

/** Long-term credentials the fixtures' servers accept. */
export const ALICE = { type: 'long-term', username: 'alice', password: 'wonderland' } as const;
/** A nonce cookie with the "Password algorithms" security feature set (RFC 8489 §9.2). */
export const PA_COOKIE = formatNonceCookie({ passwordAlgorithms: true, usernameAnonymity: false });
/** PASSWORD-ALGORITHMS listing SHA-256 then MD5 (RFC 8489 §14.11). */
export const PA_LIST = new Uint8Array([0, PasswordAlgorithm.SHA256, 0, 0, 0, PasswordAlgorithm.MD5, 0, 0]);

/** A StunServer with long-term auth whose password for alice is `password`. */
export function longTermServer(password: string, realm = 'example.org'): StunServer {
  return new StunServer({
    random: seededRandom(52),
    auth: { type: 'long-term', realm, password: (u) => (u === 'alice' ? password : undefined) },
  });
}

/** Delivers every queued client datagram to `server` and its answers back, until both are quiet. */
export function exchange(client: StunClient, server: Machine<unknown>, now: number): StunMessage[] {
  const sent: StunMessage[] = [];
  for (let t = client.pollTransmit(); t !== undefined; t = client.pollTransmit()) {
    sent.push(decodeSent(t));
    server.handleInput(t.payload, CLIENT, now, t.destination);
    for (let r = server.pollTransmit(); r !== undefined; r = server.pollTransmit()) {
      client.handleInput(r.payload.slice(), t.destination, now, CLIENT);
    }
  }
  return sent;
}

/** A 401/438 answering `req`, built by hand. */
export function challenge(
  req: StunMessage,
  code: number,
  realm: string,
  nonce: string,
  algorithms?: Uint8Array,
): Uint8Array {
  const b = new MessageBuilder().resetResponse(req, MessageClass.Error).addErrorCode(code).addRealm(realm);
  b.addNonce(nonce);
  if (algorithms !== undefined) b.addRaw(AttrType.PasswordAlgorithms, algorithms);
  return b.build().slice();
}
