import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// io-node and io-deno share their transport-agnostic core as two identical copies (neither
// package may depend on the other), so the two drivers keep one behaviour.
it.each(['loop.ts', 'events.ts'])('src/%s is identical in io-node and io-deno', (file) => {
  const node = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
  const deno = readFileSync(new URL(`../../io-deno/src/${file}`, import.meta.url), 'utf8');
  expect(deno).toBe(node);
  expect(node).not.toMatch(/from 'node:|Deno\./);
});
