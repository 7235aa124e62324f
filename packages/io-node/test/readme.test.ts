import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.ts';

// The README's first TypeScript block must run as written (imports by package name resolve
// through the package's own exports, as they would for a user).
it('the README example runs and prints a mapped address', () => {
  const res = runReadmeExample(fileURLToPath(new URL('../', import.meta.url)), 50_000);
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  expect(res.stdout).toMatch(/^mapped 127\.0\.0\.1:\d+, rtt \d+\.\d\d ms$/m);
  expect(res.stdout).toMatch(/^mapped \{ address: '127\.0\.0\.1'/m);
}, 60_000);
