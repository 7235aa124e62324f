import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.ts';

// The README example runs as written: the core answers a datagram through the platform's send,
// delivers the machine's event, and the process exits after close() (no dangling timer).
it('the README example runs', () => {
  const res = runReadmeExample(fileURLToPath(new URL('../', import.meta.url)), 30_000);
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  expect(res.stdout).toMatch(/event \{ type: 'seen', bytes: 5 \}/);
  expect(res.stdout).toMatch(/sent \[ Uint8Array\(1\) \[ 5 \] \]/);
}, 40_000);
