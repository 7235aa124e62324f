// The default `pnpm demo` (two natkit processes over loopback) end to end, on Node and on Deno.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const deno = `${root}node_modules/.bin/deno`;

function check(run: ReturnType<typeof spawnSync>): void {
  const out = `${run.stdout}\n${run.stderr}`;
  expect(run.status, out).toBe(0);
  expect(out).toMatch(/✔ 8\/8 sessions connected and echoed application data/);
  expect(out).toMatch(/STUN: .* sees us at 127\.0\.0\.1:\d+/);
  expect(out).toMatch(/our StunServer tells the remote it is at 127\.0\.0\.1:\d+/);
  expect(out).toMatch(/dropped 0;/);
}

describe('pnpm demo', () => {
  it('runs green on Node (io-node) and exits 0', () => {
    const run = spawnSync(`${root}node_modules/.bin/tsx`, ['--conditions=source', cli], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    check(run);
  }, 70_000);

  it.skipIf(!existsSync(deno))(
    'runs green on Deno (io-deno) and exits 0 — pnpm demo:deno',
    () => {
      const run = spawnSync(deno, ['run', '--allow-all', '--unstable-net', '--conditions=source', cli], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
      });
      check(run);
      expect(run.stdout).toMatch(/deno [\d.]+ \+ @natkit\/io-deno/);
    },
    70_000,
  );

  it('prints usage for help and fails on an unknown command', () => {
    const help = spawnSync(`${root}node_modules/.bin/tsx`, ['--conditions=source', cli, 'help'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('pnpm demo serve');
    const bad = spawnSync(`${root}node_modules/.bin/tsx`, ['--conditions=source', cli, 'frobnicate'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown command');
  }, 30_000);
});
