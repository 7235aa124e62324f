/**
 * Heap per IntegrityKey: creates 20 000 keys and measures what they retain (V8 heap plus
 * ArrayBuffer backing stores, after two forced GCs) before any MAC, after one HMAC-SHA1 each,
 * and after one HMAC-SHA1 and one HMAC-SHA256 each. The figures include the key-bytes copy and
 * the array slot holding the key (8 bytes). Needs `--expose-gc`.
 *
 * Run: pnpm --filter @natkit/stun-codec bench:memory
 */
import { IntegrityKey, type MacAlgorithm } from '../src/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const N = 20_000;
const msg = new Uint8Array(108);
msg[3] = 88;
const out = new Uint8Array(32);

function retained(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// First use of each hash builds and self-tests its shared state; keep that out of the figures.
new IntegrityKey(new Uint8Array(16)).mac('sha1', msg, 76, 80, out);
new IntegrityKey(new Uint8Array(16)).mac('sha256', msg, 76, 80, out);

for (const algorithms of [[], ['sha1'], ['sha1', 'sha256']] as MacAlgorithm[][]) {
  const keys: IntegrityKey[] = [];
  const before = retained();
  for (let i = 0; i < N; i++) {
    const k = new IntegrityKey(
      Uint8Array.of(i & 0xff, i >>> 8, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
    );
    for (const a of algorithms) k.mac(a, msg, 76, 80, out);
    keys.push(k);
  }
  const perKey = (retained() - before) / N;
  console.log(
    `${algorithms.join(' + ') || 'no MAC yet'}: ${perKey.toFixed(0)} bytes per key (${keys.length} keys)`,
  );
}
