import { ErrorCode, MessageBuilder, MessageClass, PasswordAlgorithm } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { decodeSent, drainEvents, drainTransmits, SERVER, seededRandom } from './helpers.ts';

/** A client with long-term credentials (RFC 8489 §9.2), seeded for repeatable transaction IDs. */
function longTermClient(seed: number): StunClient {
  return new StunClient({
    random: seededRandom(seed),
    credentials: { type: 'long-term', username: 'alice', password: 'wonderland' },
  });
}

describe('StunClient against hostile or broken responses', () => {
  it('a 401 whose echoed attributes cannot fit in a retry fails the request instead of throwing', () => {
    const client = longTermClient(11);
    const id = client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    // PASSWORD-ALGORITHMS must be echoed verbatim (§9.2.5): ~64 KB of unknown algorithms plus
    // MD5, with a maximal REALM and NONCE, leaves no room for USERNAME and integrity.
    const algs = new Uint8Array(63_980);
    algs.set([0, PasswordAlgorithm.MD5, 0, 0], algs.length - 4);
    for (let o = 0; o < algs.length - 4; o += 4) algs.set([0xff, 0xff, 0, 0], o);
    const challenge = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(ErrorCode.Unauthorized, '')
      .addRealm('r'.repeat(763))
      .addNonce('n'.repeat(763))
      .addRaw(0x8002, algs)
      .build();
    expect(() => client.handleInput(challenge, SERVER, 5)).not.toThrow();
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'failure', reason: 'auth', transactionId: id }),
    ]);
    expect(client.pending).toBe(0);
    expect(client.pollTimeout()).toBeUndefined();
  });
});

describe('StunClient with long-term credentials (RFC 8489 §9.2.5)', () => {
  it('discards a 400 without integrity: retransmissions continue, the request times out', () => {
    const client = longTermClient(12);
    const id = client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const bad = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(ErrorCode.BadRequest)
      .build();
    expect(client.handleInput(bad, SERVER, 5)).toBe('unauthenticated');
    expect(drainEvents(client)).toEqual([]);
    expect(client.transaction(id)?.state).toBe('in-flight');
    client.handleTimeout(500);
    expect(drainTransmits(client)).toHaveLength(1);
    expect(client.stats.unauthenticated).toBe(1);
  });

  it('still reports a 400 to a request without credentials', () => {
    const client = new StunClient({ random: seededRandom(13) });
    const id = client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const bad = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(ErrorCode.BadRequest)
      .build();
    expect(client.handleInput(bad, SERVER, 5)).toBe('accepted');
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'error-response', code: 400, transactionId: id }),
    ]);
  });
});

describe('StunClient and 300 Try Alternate (RFC 8489 §10)', () => {
  it('does not follow an ALTERNATE-SERVER of another address family', () => {
    const client = new StunClient({ random: seededRandom(14) });
    const id = client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    const redirect = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(ErrorCode.TryAlternate)
      .addAlternateServer({ address: '2001:db8::2', port: 3478, family: 'IPv6' })
      .build();
    expect(client.handleInput(redirect, SERVER, 5)).toBe('accepted');
    expect(drainTransmits(client)).toEqual([]);
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'error-response', code: 300, transactionId: id }),
    ]);
  });
});
