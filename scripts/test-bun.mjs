// Runs the protocol packages' Deno suites (packages/*/test-deno/*.test.ts) under Bun, installed
// from npm, to show the same code runs there unchanged; writes the counts to
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
const passed = pass ? Number(pass[1]) : 0;
const failed = fail ? Number(fail[1]) : 1;
if (process.env.NATKIT_SUMMARY_FILE)
  writeFileSync(process.env.NATKIT_SUMMARY_FILE, JSON.stringify({ passed, failed }));
process.exit(res.status === 0 && failed === 0 && passed > 0 ? 0 : 1);
