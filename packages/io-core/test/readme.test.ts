import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;

// The README example runs as written: the core answers a datagram through the platform's send,
// delivers the machine's event, and the process exits after close() (no dangling timer).
it('the README example runs', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = fileURLToPath(new URL('./readme-example.tmp.ts', import.meta.url));
  writeFileSync(file, code ?? '');
  try {
    const res = spawnSync(TSX, ['--conditions=source', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/event \{ type: 'seen', bytes: 5 \}/);
    expect(res.stdout).toMatch(/sent \[ Uint8Array\(1\) \[ 5 \] \]/);
  } finally {
    rmSync(file, { force: true });
  }
}, 40_000);
