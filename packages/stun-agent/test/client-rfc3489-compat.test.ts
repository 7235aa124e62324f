import { MessageBuilder, MessageClass, Method } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { CLIENT, decodeSent, drainEvents, drainTransmits, SERVER, seededRandom } from './helpers.ts';

/** An RFC 3489 address value (family IPv4, port, address), as in MAPPED-ADDRESS. */
const ADDR = new Uint8Array([0, 1, 0x0d, 0x96, 198, 51, 100, 1]);

/** Sends one request and answers it with `build` (a response builder already reset to it). */
function answer(
  client: StunClient,
  messageClass: typeof MessageClass.Success | typeof MessageClass.Error,
  build: (b: MessageBuilder) => MessageBuilder,
  method: number = Method.Binding,
) {
  client.request(SERVER, 0, { method });
  const req = decodeSent(drainTransmits(client)[0]);
  const verdict = client.handleInput(
    build(new MessageBuilder().resetResponse(req, messageClass)).build(),
    SERVER,
    20,
  );
  return { verdict, events: drainEvents(client) };
}

describe('StunClient and RFC 3489 servers (RFC 5389 §12.1)', () => {
  it('ignores RESPONSE-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS and REFLECTED-FROM in a Binding success', () => {
    const client = new StunClient({ random: seededRandom(31), fingerprint: false });
    const { verdict, events } = answer(client, MessageClass.Success, (b) =>
      b
        .addMappedAddress(CLIENT)
        .addRaw(0x0002, ADDR)
        .addRaw(0x0004, ADDR)
        .addRaw(0x0005, ADDR)
        .addRaw(0x000b, ADDR),
    );
    expect(verdict).toBe('accepted');
    expect(events).toEqual([expect.objectContaining({ type: 'success', mappedAddress: CLIENT })]);
  });

  it('ignores them in a Binding error response too: the error code is reported', () => {
    const client = new StunClient({ random: seededRandom(32) });
    const { events } = answer(client, MessageClass.Error, (b) =>
      b.addErrorCode(500).addRaw(0x0004, ADDR).addRaw(0x0005, ADDR),
    );
    expect(events).toEqual([expect.objectContaining({ type: 'error-response', code: 500 })]);
  });

  it('any other unknown comprehension-required attribute still fails a Binding success (RFC 8489 §6.3.3)', () => {
    for (const type of [0x0007, 0x0021, 0x7fff]) {
      const client = new StunClient({ random: seededRandom(33) });
      const { events } = answer(client, MessageClass.Success, (b) =>
        b.addMappedAddress(CLIENT).addRaw(0x0004, ADDR).addRaw(type, ADDR),
      );
      expect(events).toEqual([
        expect.objectContaining({
          type: 'failure',
          reason: 'malformed',
          detail: `unknown attributes ${type}`,
        }),
      ]);
    }
  });

  it('the exemption is for Binding only: the same attributes fail another method', () => {
    const client = new StunClient({ random: seededRandom(34) });
    const { events } = answer(
      client,
      MessageClass.Success,
      (b) => b.addMappedAddress(CLIENT).addRaw(0x0005, ADDR),
      Method.Allocate,
    );
    expect(events).toEqual([expect.objectContaining({ type: 'failure', reason: 'malformed' })]);
  });
});
