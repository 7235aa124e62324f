// A server for throughput.ts, in its own process so it does not share a core with the load
// generator: `echo` (plain node:dgram, sends every datagram back) or `demo` (the demo's Mux
// with StunServer, StunClient and an IceRouter of idle sessions, over io-node) or `stun` (a bare
// StunServer on io-node).
// Prints `port <n>` once listening; exits on SIGTERM.
import { createSocket } from 'node:dgram';
import { bindUdp } from '@natkit/io-node';
import { StunServer } from '@natkit/stun-agent';
import { NatHost } from '../src/host.ts';

const kind = process.argv[2];
if (kind === 'echo') {
  const s = createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
  s.bind(0, '127.0.0.1', () => console.log(`port ${s.address().port}`));
  process.on('SIGTERM', () => s.close(() => process.exit(0)));
} else if (kind === 'echo-copy-cb') {
  // The echo server with the two things a driver does per send: copy the payload, pass a callback.
  const s = createSocket('udp4');
  s.on('message', (msg, rinfo) => s.send(Buffer.from(msg), rinfo.port, rinfo.address, () => {}));
  s.bind(0, '127.0.0.1', () => console.log(`port ${s.address().port}`));
  process.on('SIGTERM', () => s.close(() => process.exit(0)));
} else if (kind === 'demo') {
  const host = new NatHost({});
  const driver = await bindUdp(host.mux, { address: '127.0.0.1' });
  host.localAddress = driver.localAddress!;
  // The socket is not idle: 1000 ICE-lite sessions live behind it too.
  driver.update(() => {
    for (let i = 0; i < 1000; i++) host.createSession({ mode: 'lite' }, performance.now());
  });
  console.log(`port ${driver.localAddress!.port}`);
  process.on('SIGTERM', () => void driver.close().then(() => process.exit(0)));
} else if (kind === 'stun') {
  // The same StunServer on io-node without the Mux: separates the Mux's cost from the rest.
  const driver = await bindUdp(new StunServer(), { address: '127.0.0.1' });
  console.log(`port ${driver.localAddress!.port}`);
  process.on('SIGTERM', () => void driver.close().then(() => process.exit(0)));
} else {
  console.error('usage: servers.ts echo|demo|stun');
  process.exit(2);
}
