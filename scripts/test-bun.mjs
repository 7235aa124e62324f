// Runs the protocol packages' Deno suites (packages/*/test-deno/*.test.ts) under Bun, installed
// from npm, to show the same code runs there unchanged, then the demo (`pnpm demo:bun`: every
// machine over io-node, on Bun's node:dgram) as one more test; writes the counts to
// NATKIT_SUMMARY_FILE when set. `Deno.test` comes from scripts/bun-test-shim.ts.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { portableSuiteDirs } from './portable-suites.mjs';

const root = new URL('..', import.meta.url).pathname;
const dirs = portableSuiteDirs(root);
const bun = join(root, 'node_modules', '.bin', 'bun');
// `--conditions=source`: workspace packages resolve to their TypeScript sources, as in vitest.
const res = spawnSync(
  bun,
  ['test', '--preload', './scripts/bun-test-shim.ts', '--conditions=source', ...dirs],
  {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
  },
);
process.stdout.write(res.stdout ?? '');
process.stderr.write(res.stderr ?? '');
// bun test ends (on stderr) with ` 18 pass`, ` 0 fail`, `Ran 18 tests across 5 files.`
const out = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
const pass = /^\s*(\d+) pass$/m.exec(out);
const fail = /^\s*(\d+) fail$/m.exec(out);
let passed = pass ? Number(pass[1]) : 0;
let failed = fail ? Number(fail[1]) : 1;
if (res.status !== 0 && failed === 0) failed = 1;

// The demo exits 0 only when every session connected and echoed its data.
console.log('\n=== the demo under Bun (io-node over node:dgram)');
const demo = spawnSync(bun, ['--conditions=source', 'apps/demo/src/cli.ts'], {
  cwd: root,
  stdio: 'inherit',
  timeout: 120_000,
});
if (demo.status === 0) passed++;
else failed++;
console.log(`=== the demo under Bun: ${demo.status === 0 ? 'ok' : `FAILED (exit ${demo.status})`}`);

if (process.env.NATKIT_SUMMARY_FILE)
  writeFileSync(process.env.NATKIT_SUMMARY_FILE, JSON.stringify({ passed, failed }));
process.exit(failed === 0 && passed > 0 ? 0 : 1);
