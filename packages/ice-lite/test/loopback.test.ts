import { bindUdp, type DriverEvent } from '@natkit/io-node';
import { describe, expect, it } from 'vitest';
import { IceAgent, type IceEvent } from '../src/index.ts';

const isState =
  (...wanted: string[]) =>
  (e: DriverEvent<IceEvent>) =>
    e.type === 'machine' && e.event.type === 'state' && wanted.includes(e.event.state);

describe('two full agents on two io-node sockets over 127.0.0.1 (real UDP, real time)', () => {
  it('connect: the controlling side completes nomination, both select the same 5-tuple', async () => {
    const a = new IceAgent({ mode: 'full', role: 'controlling' });
    const b = new IceAgent({ mode: 'full', role: 'controlled' });
    const da = await bindUdp(a, { address: '127.0.0.1' });
    const db = await bindUdp(b, { address: '127.0.0.1' });
    try {
      const aDone = da.waitFor(isState('completed', 'failed'));
      const bDone = db.waitFor(isState('completed', 'failed'));
      // Offer/answer: credentials and host candidates, then end-of-candidates (no STUN servers).
      const ca = da.update((m) => m.addLocalCandidate(da.localAddress!));
      const cb = db.update((m) => m.addLocalCandidate(db.localAddress!));
      da.update((m) => {
        m.setRemoteCredentials(b.localCredentials);
        m.addRemoteCandidate(cb);
        m.endOfRemoteCandidates();
      });
      db.update((m) => {
        m.setRemoteCredentials(a.localCredentials);
        m.addRemoteCandidate(ca);
        m.endOfRemoteCandidates();
      });
      const [ea, eb] = await Promise.all([aDone, bDone]);
      expect(ea).toMatchObject({ event: { state: 'completed' } });
      expect(eb).toMatchObject({ event: { state: 'completed' } });
      expect(a.selectedPair?.local.address).toEqual(da.localAddress);
      expect(a.selectedPair?.remote.address).toEqual(db.localAddress);
      expect(b.selectedPair?.remote.address).toEqual(da.localAddress);
      expect(a.stats.checksSent).toBeGreaterThan(0);
    } finally {
      await Promise.all([da.close(), db.close()]);
    }
  });
});
