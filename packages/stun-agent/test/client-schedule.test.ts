import { decode, MessageBuilder, MessageClass, Method } from '@natkit/stun-codec';
import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import { CLIENT, drainEvents, drainTransmits, runAlone, SERVER, seededRandom } from './helpers.ts';

function successFor(request: Uint8Array, mapped = CLIENT): Uint8Array {
  const r = decode(request);
  if (!r.ok) throw new Error('bad request');
  return new MessageBuilder()
    .resetResponse(r.message, MessageClass.Success)
    .addXorMappedAddress(mapped)
    .build();
}

describe('StunClient retransmission schedule', () => {
  it('sends at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s and fails at 39.5 s', () => {
    const c = new StunClient({ random: seededRandom() });
    const id = c.request(SERVER, 0);
    const { sends, events } = runAlone(c, 100_000);
    expect(sends).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(events).toHaveLength(1);
    expect(events[0]![0]).toBe(39500);
    expect(events[0]![1]).toMatchObject({ type: 'failure', reason: 'timeout', transactionId: id });
    expect(c.pollTimeout()).toBeUndefined();
    expect(c.stats.retransmits).toBe(6);
  });

  it('starts from the learned RTO of the destination (RFC 6298 + RTO cache)', () => {
    const c = new StunClient({ random: seededRandom() });
    c.request(SERVER, 0);
    // A 300 ms RTT: SRTT 300, RTTVAR 150 → RTO 300 + 4·150 = 900.
    c.handleInput(successFor(drainTransmits(c)[0]!.payload), SERVER, 300);
    expect(drainEvents(c)[0]).toMatchObject({ type: 'success', rtt: 300, retransmits: 0 });
    expect(c.rtoFor(SERVER, 300)).toBe(900);
    // The next request to that server, unanswered, follows the schedule scaled to 900 ms.
    const t0 = 1000;
    c.request(SERVER, t0);
    const { sends, events } = runAlone(c, 1_000_000, t0);
    expect(sends.map((s) => s - t0)).toEqual([0, 900, 2700, 6300, 13500, 27900, 56700]);
    expect(events.map(([t, e]) => [t - t0, e.type])).toEqual([[56700 + 16 * 900, 'failure']]);
  });

  it('forgets the learned RTO after 10 idle minutes', () => {
    const c = new StunClient({ random: seededRandom() });
    c.request(SERVER, 0);
    c.handleInput(successFor(drainTransmits(c)[0]!.payload), SERVER, 300);
    expect(c.rtoFor(SERVER, 300 + 599_999)).toBe(900);
    expect(c.rtoFor(SERVER, 300 + 600_000)).toBe(500);
  });

  it('keeps a backed-off RTO after a retransmitted exchange (Karn), capped by maxRto', () => {
    const c = new StunClient({ random: seededRandom() });
    c.request(SERVER, 0);
    const first = drainTransmits(c)[0]!;
    c.handleTimeout(500);
    c.handleTimeout(1500);
    expect(drainTransmits(c)).toHaveLength(2);
    c.handleInput(successFor(first.payload), SERVER, 1600);
    expect(drainEvents(c)[0]).toMatchObject({ type: 'success', rtt: 1600, retransmits: 2 });
    // No RTT sample; the RTO reached (2000 ms) is kept.
    expect(c.rtoFor(SERVER, 1600)).toBe(2000);
  });

  it('reliable transport: one send, failure after Ti', () => {
    const c = new StunClient({ random: seededRandom(), transport: 'reliable' });
    c.request(SERVER, 0);
    const { sends, events } = runAlone(c, 100_000);
    expect(sends).toEqual([0]);
    expect(events.map(([t, e]) => [t, e.type])).toEqual([[39500, 'failure']]);
  });

  it('per-request Rc and RTO (consent checks, ICE pacing)', () => {
    const c = new StunClient({ random: seededRandom() });
    c.request(SERVER, 0, { rc: 1, rto: 600 });
    const { sends, events } = runAlone(c, 100_000);
    expect(sends).toEqual([0]);
    expect(events[0]![0]).toBe(16 * 600);
  });

  it('an indication is sent once and tracked nowhere', () => {
    const c = new StunClient({ random: seededRandom() });
    c.indicate(SERVER, 0);
    const [t] = drainTransmits(c);
    const m = decode(t!.payload);
    expect(m.ok && m.message.messageClass).toBe(MessageClass.Indication);
    expect(m.ok && m.message.method).toBe(Method.Binding);
    expect(c.pollTimeout()).toBeUndefined();
  });
});
