import { AttrType } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { drainEvents, SERVER, seededRandom } from './helpers.ts';
import { ALICE, exchange, longTermServer } from './long-term-fixtures.ts';

describe('StunClient long-term credentials: 401 retries (RFC 8489 §9.2.5)', () => {
  it('a 401 to a request that carried cached credentials fails "auth" without a retry', () => {
    const client = new StunClient({ random: seededRandom(51), credentials: ALICE });
    client.request(SERVER, 0);
    exchange(client, longTermServer('wonderland'), 0);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'success' })]);

    // The server's password for alice changed: it rejects the cached credentials with a 401.
    const rejecting = longTermServer('changed');
    const id = client.request(SERVER, 1000);
    const sent = exchange(client, rejecting, 1000);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.username()).toBe('alice');
    expect(drainEvents(client)).toEqual([
      expect.objectContaining({ type: 'failure', reason: 'auth', transactionId: id }),
    ]);
    expect(client.pollTimeout()).toBeUndefined();

    // The rejected challenge is forgotten: the next request starts without credentials, so its
    // 401 earns exactly one authenticated retry.
    client.request(SERVER, 2000);
    const again = exchange(client, rejecting, 2000);
    expect(again.map((m) => m.has(AttrType.MessageIntegritySha256))).toEqual([false, true]);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'failure', reason: 'auth' })]);
  });

  it('a 401 naming another realm is a change of REALM: one retry with it', () => {
    const client = new StunClient({ random: seededRandom(53), credentials: ALICE });
    client.request(SERVER, 0);
    exchange(client, longTermServer('wonderland'), 0);
    drainEvents(client);
    client.request(SERVER, 1000);
    const sent = exchange(client, longTermServer('wonderland', 'other.example'), 1000);
    expect(sent.map((m) => m.realm())).toEqual(['example.org', 'other.example']);
    expect(drainEvents(client)).toEqual([expect.objectContaining({ type: 'success' })]);
  });
});
