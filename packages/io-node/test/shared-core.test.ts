import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// io-node and io-deno share their transport-agnostic core as two identical copies (neither
// package may depend on the other), so the two drivers keep one behaviour.
it.each(['loop.ts', 'events.ts'])('src/%s is identical in io-node and io-deno', (file) => {
  const node = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
  const deno = readFileSync(new URL(`../../io-deno/src/${file}`, import.meta.url), 'utf8');
  expect(deno).toBe(node);
  expect(node).not.toMatch(/Deno\./);
});

it('io-deno imports no node:* module', () => {
  const dir = new URL('../../io-deno/src/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(readFileSync(new URL(f, dir), 'utf8'), f).not.toMatch(/from ['"]node:/);
});
