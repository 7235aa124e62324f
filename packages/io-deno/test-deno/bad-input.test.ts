// Garbage from the network: the driver and stun-agent's StunServer drop it and keep answering.
import assert from 'node:assert/strict';
import { bindUdp, type DriverEvent } from '@natkit/io-deno';
import { StunClient, type StunClientEvent, StunServer } from '@natkit/stun-agent';
import { udpPeer, until } from './peer.ts';

type MachineEvent = Extract<DriverEvent<StunClientEvent>, { type: 'machine' }>;

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
function garbage(seed: number, count: number): Uint8Array[] {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Uint8Array(next() % 600);
    for (let j = 0; j < d.length; j++) d[j] = next() & 0xff;
    // Every third one looks like a STUN Binding request header (cookie and all) with a junk body.
    if (i % 3 === 0 && d.length >= 20)
      d.set([0x00, 0x01, (d.length - 20) >> 8, (d.length - 20) & 0xfc, 0x21, 0x12, 0xa4, 0x42]);
    out.push(d);
  }
  return out;
}

Deno.test('garbage datagrams are dropped and counted; a real Binding request is still answered', async () => {
  const server = new StunServer();
  const driver = await bindUdp(server, { address: '127.0.0.1' });
  const client = await bindUdp(new StunClient({ rto: 200 }), { address: '127.0.0.1' });
  const p = udpPeer();
  try {
    const target = driver.localAddress;
    assert.ok(target);
    const junk = garbage(0xc0ffee, 300);
    // In bursts of 20, waiting for each burst to be handled: a UDP receive buffer that overflows
    // would drop datagrams before the driver ever saw them.
    for (let i = 0; i < junk.length; i++) {
      await p.send(junk[i] ?? new Uint8Array(0), target);
      if (i % 20 === 19) await until(() => driver.stats.datagramsIn === i + 1);
    }
    const answered = client.waitFor((e): e is MachineEvent => e.type === 'machine');
    client.update((c) => c.request(target, client.now()));
    const { event } = await answered;
    assert.equal(event.type, 'success');
    assert.deepEqual(event.mappedAddress, client.localAddress);
    assert.equal(driver.stats.datagramsIn, junk.length + 1);
    assert.equal(driver.stats.machineErrors, 0);
    assert.equal(server.stats.success, 1);
    assert.equal(driver.closed, false);
  } finally {
    p.close();
    await Promise.all([driver.close(), client.close()]);
  }
});
