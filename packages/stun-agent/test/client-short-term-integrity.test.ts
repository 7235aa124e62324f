import {
  AttrType,
  IntegrityKey,
  MessageBuilder,
  MessageClass,
  type StunMessage,
  shortTermKey,
} from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { StunServer } from '../src/server.ts';
import { CLIENT, decodeSent, drainEvents, drainTransmits, SERVER, SERVER2, seededRandom } from './helpers.ts';
import { Link, perfect } from './link.ts';

const BOTH = { type: 'short-term', username: 'R:L', password: 'pw', integrity: 'both' } as const;
const KEY = new IntegrityKey(shortTermKey('pw'));

/** Which integrity attributes a request carries. */
const carried = (m: StunMessage) => [
  m.has(AttrType.MessageIntegrity),
  m.has(AttrType.MessageIntegritySha256),
];

/** A success answering `req`, protected with one attribute (as an RFC 5389 or RFC 8489 peer would). */
function answer(req: StunMessage, integrity: 'sha1' | 'sha256', key = KEY): Uint8Array {
  const b = new MessageBuilder().resetResponse(req, MessageClass.Success).addXorMappedAddress(CLIENT);
  if (integrity === 'sha1') b.addMessageIntegrity(key);
  else b.addMessageIntegritySha256(key);
  return b.addFingerprint().build().slice();
}

describe('StunClient short-term credentials with both integrity attributes (RFC 8489 §9.1.4, §9.1.5)', () => {
  it('after a MESSAGE-INTEGRITY-only response, later requests to that server carry only MESSAGE-INTEGRITY', () => {
    const client = new StunClient({ random: seededRandom(61), credentials: BOTH });
    client.request(SERVER, 0);
    const first = decodeSent(drainTransmits(client)[0]);
    expect(carried(first)).toEqual([true, true]);
    expect(client.handleInput(answer(first, 'sha1'), SERVER, 10)).toBe('accepted');
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'success' })]);

    client.request(SERVER, 100);
    const second = decodeSent(drainTransmits(client)[0]);
    expect(carried(second)).toEqual([true, false]);
    // §9.1.4: a request that sent one attribute accepts only a response with the same one.
    expect(client.handleInput(answer(second, 'sha256'), SERVER, 110)).toBe('unauthenticated');
    expect(client.handleInput(answer(second, 'sha1'), SERVER, 120)).toBe('accepted');
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'success' })]);

    // Indications to that server narrow the same way; another server still gets both.
    client.indicate(SERVER, 200);
    expect(carried(decodeSent(drainTransmits(client)[0]))).toEqual([true, false]);
    client.request(SERVER2, 200);
    expect(carried(decodeSent(drainTransmits(client)[0]))).toEqual([true, true]);
  });

  it('learns MESSAGE-INTEGRITY-SHA256 from an RFC 8489 server and keeps using only it', () => {
    const client = new StunClient({ random: seededRandom(62), credentials: BOTH });
    const server = new StunServer({
      random: seededRandom(63),
      auth: { type: 'short-term', password: (u) => (u === 'R:L' ? 'pw' : undefined) },
    });
    const link = new Link(
      [
        { address: CLIENT, machine: client },
        { address: SERVER, machine: server },
      ],
      () => perfect,
    );
    client.request(SERVER, 0);
    link.run(0, 60_000);
    client.request(SERVER, 1000);
    link.run(1000, 60_000);
    const requests = link.delivered
      .filter((d) => d.to === SERVER)
      .map((d) => carried(decodeSent({ destination: d.to, payload: d.payload })));
    expect(requests).toEqual([
      [true, true],
      [false, true],
    ]);
    expect(drainEvents(client).map((e) => e.type)).toEqual(['success', 'success']);
  });

  it('an unauthenticated response teaches nothing', () => {
    const client = new StunClient({ random: seededRandom(64), credentials: BOTH });
    client.request(SERVER, 0);
    const first = decodeSent(drainTransmits(client)[0]);
    const forged = answer(first, 'sha1', new IntegrityKey(shortTermKey('not-pw')));
    expect(client.handleInput(forged, SERVER, 10)).toBe('unauthenticated');
    client.request(SERVER, 20);
    expect(carried(decodeSent(drainTransmits(client)[0]))).toEqual([true, true]);
  });

  it('an explicit single attribute is never widened or switched', () => {
    const client = new StunClient({ random: seededRandom(65) });
    client.request(SERVER, 0, { credentials: BOTH });
    client.handleInput(answer(decodeSent(drainTransmits(client)[0]), 'sha1'), SERVER, 10);
    client.request(SERVER, 20, { credentials: { ...BOTH, integrity: 'sha256' } });
    expect(carried(decodeSent(drainTransmits(client)[0]))).toEqual([false, true]);
  });
});
