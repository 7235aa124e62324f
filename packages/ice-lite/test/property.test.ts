import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { type NatKind, settled, states, world } from './harness.ts';

const natKind = fc.constantFrom<NatKind>(
  'none',
  'fullCone',
  'restrictedCone',
  'portRestrictedCone',
  'symmetric',
);
const live = (s: string) => s === 'connected' || s === 'completed';

describe('full agent properties over seeds and network conditions (netsim)', () => {
  // netsim throws a `busy-loop` SimError if an agent's pollTimeout() is <= now right after
  // handleTimeout(now), and `stalled` if time stops moving: both fail the property.
  test.prop(
    [
      fc.integer({ min: 1, max: 1_000_000 }),
      natKind,
      natKind,
      fc.constantFrom<'lite' | 'full'>('lite', 'full'),
      fc.integer({ min: 1, max: 200 }),
      fc.double({ min: 0, max: 0.3, noNaN: true }),
    ],
    { numRuns: 100, seed: 20261125 },
  )(
    'settles (connected or failed, never both, never stuck) within the RFC bounds',
    (seed, natA, natB, modeB, latency, loss) => {
      // A lite agent lives on the public internet (RFC 8445 §2.5).
      const w = world({
        seed,
        natA,
        natB: modeB === 'lite' ? 'none' : natB,
        modeB,
        latency,
        loss,
        jitter: latency / 10,
      });
      w.signal();
      // Bound: a check gives up after Rc=7 sends + Rm (≈ 39.5 s at RTO 500 ms, RFC 8489 §6.2.1) plus pacing.
      const ok = w.run(() => settled(w.a.agent), 60_000);
      expect(ok, `A still ${w.a.agent.state} after 60 s`).toBe(true);
      // The other side follows: selected too, or (after A gave up) no longer connected once its
      // own checks or consent (30 s, RFC 7675) run out.
      const aLive = live(w.a.agent.state);
      const bOk = w.run(() => (aLive ? live(w.b.agent.state) : !live(w.b.agent.state)), w.sim.now + 45_000);
      expect(bOk, `B ${w.b.agent.state} while A ${w.a.agent.state}`).toBe(true);
      for (const p of [w.a, w.b]) {
        const s = p.agent.state;
        // Never both: a selected pair exactly while connected (or briefly disconnected).
        if (live(s) || s === 'disconnected') expect(p.agent.selectedPair).toBeDefined();
        else expect(p.agent.selectedPair).toBeUndefined();
        // Never revived from failed without a restart.
        const st = states(p);
        const failedAt = st.indexOf('failed');
        if (failedAt >= 0) expect(st.slice(failedAt + 1).some(live)).toBe(false);
        // Nothing left to do for an agent that failed: no timer armed.
        if (s === 'failed') expect(p.agent.pollTimeout()).toBeUndefined();
      }
      const natB2 = modeB === 'lite' ? 'none' : natB;
      // "Connected or failed" alone would pass for an agent that always fails: with (almost) no loss, every
      // NAT pairing that does not need a relay must connect.
      const impossible =
        (natA === 'symmetric' && (natB2 === 'symmetric' || natB2 === 'portRestrictedCone')) ||
        (natB2 === 'symmetric' && natA === 'portRestrictedCone');
      if (loss < 0.01 && !impossible) expect(live(w.a.agent.state), `A ${w.a.agent.state}`).toBe(true);
      if (loss === 0 && natA === 'none' && natB2 === 'none' && live(w.a.agent.state)) {
        // Without loss the controlled side has selected the same 5-tuple.
        expect(w.b.agent.selectedPair?.remote.address).toEqual(w.a.agent.selectedPair?.local.address);
      }
    },
  );
});
