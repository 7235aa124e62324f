import { describe, expect, it } from 'vitest';
import { StunClient } from '../src/client.ts';
import type { StunClientEvent } from '../src/client-types.ts';
import { RttEstimator } from '../src/rtt.ts';
import { StunServer } from '../src/server.ts';
import { CLIENT, drainEvents, runAlone, SERVER, seededRandom } from './helpers.ts';
import { Link } from './link.ts';

/** A client and a server over a path with a fixed round-trip time (half each way), in virtual time. */
function slowPath(rtt: number, clientOptions: ConstructorParameters<typeof StunClient>[0] = {}) {
  const client = new StunClient({ random: seededRandom(41), ...clientOptions });
  const server = new StunServer({ random: seededRandom(42) });
  const link = new Link(
    [
      { address: CLIENT, machine: client },
      { address: SERVER, machine: server },
    ],
    () => ({ drop: false, duplicate: false, delay: rtt / 2, dupDelay: 0 }),
  );
  return { client, server, link };
}

type Success = Extract<StunClientEvent, { type: 'success' }>;

/** Runs `count` Binding transactions one after another; returns each one's success event and the RTO after it. */
function transactions(client: StunClient, link: Link, count: number) {
  const out: { retransmits: number; rtt: number; rtoAfter: number }[] = [];
  let now = 0;
  for (let i = 0; i < count; i++) {
    client.request(SERVER, now);
    // Long enough for any retransmission schedule: responses to the retransmissions arrive late
    // and are dropped as unknown transactions.
    now = link.run(now, now + 600_000);
    const [e] = drainEvents(client) as Success[];
    expect(e?.type).toBe('success');
    out.push({ retransmits: e!.retransmits, rtt: e!.rtt, rtoAfter: client.rtoFor(SERVER, now) });
    now += 1000;
  }
  return out;
}

describe('StunClient RTO ceiling (RFC 6298 §2.5, RFC 8489 §6.2.1)', () => {
  it('on a 4 s RTT path, learns the RTT: only the first transaction retransmits', () => {
    const { client, link } = slowPath(4000);
    const runs = transactions(client, link, 4);
    // The first starts at 500 ms and is answered after sends at 0, 0.5, 1.5 and 3.5 s: no sample
    // (Karn), but the backed-off 4 s is kept. From then on every exchange is a clean sample.
    expect(runs[0]).toEqual({ retransmits: 3, rtt: 4000, rtoAfter: 4000 });
    expect(runs.slice(1).map((r) => r.retransmits)).toEqual([0, 0, 0]);
    // SRTT 4000, RTTVAR 2000 → 12 000; then RTTVAR 1500 → 10 000; then 1125 → 8500.
    expect(runs.slice(1).map((r) => r.rtoAfter)).toEqual([12_000, 10_000, 8_500]);
    expect(runs.every((r) => r.rtt === 4000)).toBe(true);
  });

  it('a ceiling below the RTT (the old 3 s default) keeps every transaction retransmitting; maxRto is still configurable', () => {
    const { client, link } = slowPath(4000, { maxRto: 3000 });
    const runs = transactions(client, link, 4);
    expect(runs.map((r) => r.retransmits)).toEqual([3, 1, 1, 1]);
    expect(runs.map((r) => r.rtoAfter)).toEqual([3000, 3000, 3000, 3000]);
  });

  it('the default ceiling is 60 s', () => {
    const e = new RttEstimator();
    e.retainBackoff(64_000);
    expect(e.rto).toBe(60_000);
    expect(new RttEstimator().sample(30_000)).toBe(60_000);
    expect(new RttEstimator({ maxRto: 3000 }).sample(30_000)).toBe(3000);
  });

  it('keeps the RFC 8489 §6.2.1 schedule: 39.5 s by default, Rc sends and Rm × RTO from a learned RTO', () => {
    const fresh = new StunClient({ random: seededRandom(43) });
    fresh.request(SERVER, 0);
    const d = runAlone(fresh, 1_000_000);
    expect(d.sends).toEqual([0, 500, 1500, 3500, 7500, 15_500, 31_500]);
    expect(d.events.map(([t, e]) => [t, e.type])).toEqual([[39_500, 'failure']]);

    // A learned RTO above the old ceiling: 7 sends doubling from 12 s, then 16 × 12 s.
    const { client, link } = slowPath(4000);
    transactions(client, link, 2);
    expect(client.rtoFor(SERVER, 20_000)).toBe(12_000);
    const t0 = 20_000;
    client.request(SERVER, t0);
    const s = runAlone(client, 10_000_000, t0);
    expect(s.sends.map((t) => t - t0)).toEqual([0, 12, 36, 84, 180, 372, 756].map((x) => x * 1000));
    expect(s.events.map(([t, e]) => [t - t0, e.type])).toEqual([[(756 + 16 * 12) * 1000, 'failure']]);
    expect(client.pollTimeout()).toBeUndefined();
  });
});
