import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.ts';

it('the README example (two full agents over loopback, then data on the selected pair) runs as written', () => {
  // Inside the package directory, `@natkit/ice-lite` resolves to itself (package self-reference).
  const run = runReadmeExample(fileURLToPath(new URL('../', import.meta.url)), 60_000);
  expect(run.stderr).toBe('');
  expect(run.stdout).toMatch(
    /^A sends from \{ address: '127\.0\.0\.1', port: \d+, family: 'IPv4' \} to .*\nB got hello\n$/s,
  );
}, 90_000);
