// Preloaded by scripts/test-bun.mjs: the packages' Deno suites call only `Deno.test(name, fn)`
// (plus node:assert, fast-check and their package's sources), so under Bun that one call is
// mapped onto bun:test and the same files run unchanged.
import { test } from 'bun:test';

(globalThis as { Deno?: unknown }).Deno = {
  test: (name: string, fn: () => unknown) => test(name, fn),
};
