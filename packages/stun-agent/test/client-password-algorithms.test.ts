import { AttrType, ErrorCode } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { decodeSent, drainEvents, drainTransmits, SERVER, SERVER2, seededRandom } from './helpers.ts';
import { ALICE, challenge, PA_COOKIE, PA_LIST } from './long-term-fixtures.ts';

describe('StunClient long-term credentials: no bid-down after PASSWORD-ALGORITHMS (RFC 8489 §9.2.5)', () => {
  it('a 438 without PASSWORD-ALGORITHMS after a 401 that listed them fails "auth"', () => {
    const client = new StunClient({ random: seededRandom(54), credentials: ALICE });
    const id = client.request(SERVER, 0);
    const first = decodeSent(drainTransmits(client)[0]);
    client.handleInput(
      challenge(first, ErrorCode.Unauthorized, 'example.org', `${PA_COOKIE}n1`, PA_LIST),
      SERVER,
      10,
    );
    const retry = decodeSent(drainTransmits(client)[0]);
    expect(retry.has(AttrType.MessageIntegritySha256)).toBe(true);
    // A nonce without the cookie and no list: falling for it would mean MESSAGE-INTEGRITY + MD5.
    client.handleInput(challenge(retry, ErrorCode.StaleNonce, 'example.org', 'plain-nonce'), SERVER, 20);
    expect(drainTransmits(client)).toEqual([]);
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'failure', reason: 'auth', transactionId: id }),
    ]);
  });

  it('is remembered per server: a later request`s 401 without the list fails too; other servers are unaffected', () => {
    const client = new StunClient({ random: seededRandom(55), credentials: ALICE });
    const a = client.request(SERVER, 0);
    const first = decodeSent(drainTransmits(client)[0]);
    client.handleInput(
      challenge(first, ErrorCode.Unauthorized, 'example.org', `${PA_COOKIE}n1`, PA_LIST),
      SERVER,
      10,
    );
    drainTransmits(client);
    client.cancel(a, 10);

    client.request(SERVER, 100);
    const second = decodeSent(drainTransmits(client)[0]);
    expect(second.has(AttrType.Username)).toBe(false);
    client.handleInput(challenge(second, ErrorCode.Unauthorized, 'example.org', 'plain-nonce'), SERVER, 110);
    expect(drainTransmits(client)).toEqual([]);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'failure', reason: 'auth' })]);

    // A server that never listed PASSWORD-ALGORITHMS still gets the RFC 5389-style retry.
    client.request(SERVER2, 200);
    const third = decodeSent(drainTransmits(client)[0]);
    client.handleInput(challenge(third, ErrorCode.Unauthorized, 'example.org', 'plain-nonce'), SERVER2, 210);
    const retry = decodeSent(drainTransmits(client)[0]);
    expect(retry.has(AttrType.MessageIntegrity)).toBe(true);
    expect(retry.has(AttrType.MessageIntegritySha256)).toBe(false);
  });
});
