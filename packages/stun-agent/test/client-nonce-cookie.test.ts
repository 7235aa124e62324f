import type { SocketAddress } from '@natkit/sans-io';
import { AttrType, ErrorCode, MessageBuilder, MessageClass, type StunMessage } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { decodeSent, drainEvents, drainTransmits, SERVER, seededRandom } from './helpers.ts';
import { ALICE, PA_COOKIE, PA_LIST } from './long-term-fixtures.ts';

describe('StunClient long-term credentials: other responses with a misleading nonce (RFC 8489 §9.2.5)', () => {
  const ALT: SocketAddress = { address: '198.51.100.66', port: 3478, family: 'IPv4' };

  function redirect(req: StunMessage, nonce: string, algorithms?: Uint8Array): Uint8Array {
    const b = new MessageBuilder()
      .resetResponse(req, MessageClass.Error)
      .addErrorCode(ErrorCode.TryAlternate)
      .addAlternateServer(ALT)
      .addRealm('example.org')
      .addNonce(nonce);
    if (algorithms !== undefined) b.addRaw(AttrType.PasswordAlgorithms, algorithms);
    return b.build().slice();
  }

  it('ignores a 300 whose nonce cookie promises PASSWORD-ALGORITHMS without the list: counted, retransmissions continue', () => {
    const client = new StunClient({ random: seededRandom(56), credentials: ALICE });
    const id = client.request(SERVER, 0);
    const req = decodeSent(drainTransmits(client)[0]);
    expect(client.handleInput(redirect(req, `${PA_COOKIE}abc`), SERVER, 5)).toBe('unauthenticated');
    expect(client.stats.unauthenticated).toBe(1);
    expect(client.stats.responses).toBe(0);
    expect(drainTransmits(client)).toEqual([]);
    expect(drainEvents(client)).toEqual([]);
    expect(client.transaction(id)).toMatchObject({ state: 'in-flight', destination: SERVER });
    client.handleTimeout(500);
    expect(drainTransmits(client).map((t) => t.destination)).toEqual([SERVER]);
  });

  it('still follows a 300 whose nonce is plain or comes with the list', () => {
    for (const [nonce, list] of [
      ['plain-nonce', undefined],
      [`${PA_COOKIE}abc`, PA_LIST],
    ] as const) {
      const client = new StunClient({ random: seededRandom(57), credentials: ALICE });
      client.request(SERVER, 0);
      const req = decodeSent(drainTransmits(client)[0]);
      expect(client.handleInput(redirect(req, nonce, list), SERVER, 5)).toBe('accepted');
      expect(drainTransmits(client).map((t) => t.destination)).toEqual([ALT]);
    }
  });
});
