// `pnpm demo`: reduced version while the protocol packages land. Binds one UDP socket on
// loopback, runs the multiplexer over it, sends it a few datagrams of each RFC 7983 class and
// prints where each went.
import { createSocket } from 'node:dgram';
import { Mux } from './mux.ts';

const socket = createSocket('udp4');
await new Promise<void>((resolve, reject) => {
  socket.once('error', reject);
  socket.bind(0, '127.0.0.1', () => resolve());
});
const local = socket.address();
const mux = new Mux({
  onData: (s, p, kind) => console.log(`  data  ${kind.padEnd(12)} ${p.length} B from session ${s.id}`),
});
const peer = createSocket('udp4');
await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', () => resolve()));
const peerAddr = { address: '127.0.0.1', port: peer.address().port, family: 'IPv4' as const };
mux.bindSession('peer', peerAddr);

const samples: [string, Uint8Array][] = [
  ['rtp', Uint8Array.of(0x80, 0x60, 0, 1)],
  ['dtls', Uint8Array.of(23, 0xfe, 0xfd)],
  ['junk', Uint8Array.of(0xff, 0)],
];
let received = 0;
const done = new Promise<void>((resolve) => {
  socket.on('message', (msg, rinfo) => {
    const verdict = mux.handleInput(
      new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength),
      {
        address: rinfo.address,
        port: rinfo.port,
        family: 'IPv4',
      },
      performance.now(),
    );
    console.log(`  in    ${msg.length} B → ${verdict}`);
    if (++received === samples.length) resolve();
  });
});
console.log(`natkit demo (reduced): one socket on ${local.address}:${local.port}`);
for (const [, bytes] of samples) peer.send(bytes, local.port, '127.0.0.1');
await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
console.log(`routed ${JSON.stringify(mux.stats.routed)} dropped ${JSON.stringify(mux.stats.dropped)}`);
socket.close();
peer.close();
