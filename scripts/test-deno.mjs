// Runs every package's Deno suite (packages/*/test-deno/*.test.ts) under the real Deno
// installed from npm, and writes the counts to NATKIT_SUMMARY_FILE when set.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = readdirSync(join(root, 'packages'))
  .map((p) => join('packages', p, 'test-deno'))
  .filter((d) => existsSync(join(root, d)));
const deno = join(root, 'node_modules', '.bin', 'deno');
const res = spawnSync(deno, ['test', '--allow-net', '--allow-read', '--allow-env', '--allow-run', ...dirs], {
  cwd: root,
  env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  encoding: 'utf8',
});
process.stdout.write(res.stdout ?? '');
process.stderr.write(res.stderr ?? '');
// Deno ends with e.g. `ok | 2 passed | 0 failed (11ms)` or `FAILED | 1 passed | 1 failed`.
const m = /(\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(res.stdout ?? '');
const passed = m ? Number(m[1]) : 0;
const failed = m ? Number(m[2]) : 1;
if (process.env.NATKIT_SUMMARY_FILE)
  writeFileSync(process.env.NATKIT_SUMMARY_FILE, JSON.stringify({ passed, failed }));
process.exit(res.status === 0 && failed === 0 ? 0 : 1);
