// The README's test command: set up the real peers, then lint, build, package checks,
// the demo typecheck, every vitest suite, every Deno suite, and the portable Deno suites under Bun
// and in Chromium.
// Ends with one line `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'natkit-summary-'));
let passed = 0;
let failed = 0;
const failures = [];

function run(label, cmd, args, summary) {
  const file = summary ? join(tmp, `${label}.json`) : undefined;
  const started = Date.now();
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', ...(file ? { NATKIT_SUMMARY_FILE: file } : {}) },
  });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  let counts;
  if (file) {
    try {
      counts = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      counts = { passed: 0, failed: 1 };
    }
    if (res.status !== 0 && counts.failed === 0) counts.failed = 1;
  } else {
    counts = res.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
  }
  passed += counts.passed;
  failed += counts.failed;
  if (counts.failed > 0 || res.status !== 0) failures.push(label);
  console.log(`=== ${label}: ${res.status === 0 ? 'ok' : `FAILED (exit ${res.status})`} in ${secs}s`);
}

run('setup-peers', 'bash', ['scripts/setup-peers.sh']);
run('lint', 'pnpm', ['lint']);
run('build', 'pnpm', ['build']);
run('typecheck', 'pnpm', ['typecheck']);
run('check:pkg', 'pnpm', ['check:pkg']);
run('vitest', 'pnpm', ['test'], true);
run('deno', 'pnpm', ['test:deno'], true);
run('bun', 'pnpm', ['test:bun'], true);
run('browser', 'pnpm', ['test:browser'], true);
rmSync(tmp, { recursive: true, force: true });

if (failures.length) console.log(`\nfailed: ${failures.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
