import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { ROOT, TSX } from './processes.ts';

// The README's first TypeScript block must run as written (imports by package name resolve
// through the package's own exports, as they would for a user).
it('the README example runs and prints a mapped address', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = fileURLToPath(new URL('./readme-example.tmp.ts', import.meta.url));
  writeFileSync(file, code ?? '');
  try {
    const res = spawnSync(TSX, ['--conditions=source', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^mapped 127\.0\.0\.1:\d+, rtt \d+\.\d\d ms$/m);
    expect(res.stdout).toMatch(/^mapped \{ address: '127\.0\.0\.1'/m);
  } finally {
    rmSync(file, { force: true });
  }
}, 60_000);
