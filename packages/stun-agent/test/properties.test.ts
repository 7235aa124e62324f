import { fc, test } from '@fast-check/vitest';
import { decode, MessageClass } from '@natkit/stun-codec';
import { describe, expect } from 'vitest';
import { StunClient } from '../src/client.ts';
import type { StunClientEvent } from '../src/client-types.ts';
import type { Credentials } from '../src/credentials.ts';
import { StunServer, type StunServerOptions } from '../src/server.ts';
import { CLIENT, drainEvents, drainTransmits, SERVER, seededRandom } from './helpers.ts';
import { type Fate, Link } from './link.ts';

const fateArb: fc.Arbitrary<Fate> = fc.record({
  drop: fc.boolean(),
  duplicate: fc.boolean(),
  delay: fc.integer({ min: 0, max: 3000 }),
  dupDelay: fc.integer({ min: 0, max: 3000 }),
});

const modeArb = fc.constantFrom('none', 'short-term', 'long-term') as fc.Arbitrary<
  'none' | 'short-term' | 'long-term'
>;

function setup(mode: 'none' | 'short-term' | 'long-term', seed: number) {
  let creds: Credentials = { type: 'none' };
  let serverOpts: StunServerOptions = {};
  if (mode === 'short-term') {
    creds = { type: 'short-term', username: 'r:l', password: 'pw' };
    serverOpts = { auth: { type: 'short-term', password: () => 'pw' } };
  } else if (mode === 'long-term') {
    creds = { type: 'long-term', username: 'alice', password: 'wonderland' };
    serverOpts = { auth: { type: 'long-term', realm: 'r', password: () => 'wonderland' } };
  }
  const client = new StunClient({ random: seededRandom(seed), credentials: creds });
  const server = new StunServer({ random: seededRandom(seed + 1), ...serverOpts });
  return { client, server };
}

describe('StunClient ↔ StunServer over a lossy, duplicating, reordering link', () => {
  test.prop(
    [
      modeArb,
      fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 6 }),
      fc.array(fateArb, { maxLength: 60 }),
      fc.integer({ min: 1, max: 1000 }),
    ],
    { numRuns: 150 },
  )(
    'every request ends exactly once; success whenever a response got through in time',
    (mode, starts, fates, seed) => {
      const { client, server } = setup(mode, seed);
      const link = new Link(
        [
          { address: CLIENT, machine: client },
          { address: SERVER, machine: server },
        ],
        (_t, _from, i) => fates[i] ?? { drop: false, duplicate: false, delay: 10, dupDelay: 0 },
      );
      const ids: string[] = [];
      const ended: [number, StunClientEvent][] = [];
      // Every STUN transaction ID each request used (a long-term retry draws a new one).
      const stunIds = new Map<string, string>();
      const onStep = (t: number) => {
        for (const id of ids) {
          const sid = client.transaction(id)?.stunTransactionId;
          if (sid !== undefined) stunIds.set(hex(sid), id);
        }
        for (const e of drainEvents(client)) ended.push([t, e]);
      };
      const sorted = [...starts].sort((a, b) => a - b);
      let now = 0;
      for (const s of sorted) {
        now = link.run(now, s, onStep);
        now = s;
        ids.push(client.request(SERVER, s));
        onStep(s);
      }
      link.run(now, 10_000_000, onStep);
      // Exactly once.
      expect(ended.map(([, e]) => e.transactionId).sort()).toEqual([...ids].sort());
      expect(client.pending).toBe(0);
      expect(client.pollTimeout()).toBeUndefined();
      // The right password never ends in an auth failure; nothing is malformed.
      for (const [, e] of ended) {
        if (e.type === 'failure') expect(e.reason).toBe('timeout');
        expect(e.type).not.toBe('error-response');
      }
      // A success response that reached the client before its request ended → success; and a
      // success always had one.
      const firstSuccessAt = new Map<string, number>();
      for (const d of link.delivered) {
        if (d.to !== CLIENT) continue;
        const m = decode(d.payload);
        if (!m.ok || m.message.messageClass !== MessageClass.Success) continue;
        const owner = stunIds.get(hex(m.message.transactionId));
        if (owner !== undefined && !firstSuccessAt.has(owner)) firstSuccessAt.set(owner, d.at);
      }
      for (const [t, e] of ended) {
        const got = firstSuccessAt.get(e.transactionId);
        if (e.type === 'success') {
          expect(got).toBeDefined();
          expect(e.rtt).toBeGreaterThanOrEqual(0);
        } else {
          expect(got === undefined || got > t).toBe(true);
        }
      }
    },
  );

  test.prop([
    fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('request' as const), rc: fc.integer({ min: 1, max: 8 }) }),
        fc.record({ op: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 5000 }) }),
        fc.record({ op: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
        fc.record({ op: fc.constant('cancel' as const), which: fc.nat() }),
      ),
      { maxLength: 60 },
    ),
  ])('no busy loop: after handleTimeout(t), pollTimeout() is undefined or > t', (ops) => {
    const client = new StunClient({ random: seededRandom(99), maxOutstanding: 3 });
    let now = 0;
    const ids: string[] = [];
    for (const o of ops) {
      switch (o.op) {
        case 'request':
          ids.push(client.request(SERVER, now, { rc: o.rc }));
          break;
        case 'advance': {
          now += o.by;
          client.handleTimeout(now);
          const next = client.pollTimeout();
          expect(next === undefined || next > now).toBe(true);
          break;
        }
        case 'garbage':
          expect(client.handleInput(o.bytes, SERVER, now)).not.toBe('accepted');
          break;
        case 'cancel':
          if (ids.length > 0) client.cancel(ids[o.which % ids.length]!, now);
          break;
      }
      drainTransmits(client);
      drainEvents(client);
    }
  });
});

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
