// The packages' Deno suites that test portable code: every packages/*/test-deno/*.test.ts but
// the ones that exercise Deno itself. scripts/test-bun.mjs runs them under Bun and
// scripts/test-browser.ts in Chromium; scripts/test-deno.mjs runs all of them under Deno.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Packages whose Deno suites test Deno's own APIs (Deno.listenDatagram), not portable code. */
const DENO_ONLY = new Set(['io-deno']);

/** The portable suites' directories, relative to `root` (`./packages/<name>/test-deno`). */
export function portableSuiteDirs(root) {
  return readdirSync(join(root, 'packages'))
    .filter((p) => !DENO_ONLY.has(p))
    .map((p) => `./${join('packages', p, 'test-deno')}`)
    .filter((d) => existsSync(join(root, d)));
}

/** The portable suites' test files, relative to `root`. */
export function portableSuiteFiles(root) {
  return portableSuiteDirs(root).flatMap((d) =>
    readdirSync(join(root, d))
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => `${d}/${f}`),
  );
}
