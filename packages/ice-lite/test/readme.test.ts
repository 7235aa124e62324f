import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('../', import.meta.url));

it('the README example (two full agents over loopback) runs as written', () => {
  const readme = readFileSync(`${pkg}README.md`, 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  // Inside the package directory, `@natkit/ice-lite` resolves to itself (package self-reference).
  const file = `${pkg}.readme-example-${process.pid}.ts`;
  writeFileSync(file, block!);
  try {
    const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: pkg,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^A sends from \{ address: '127\.0\.0\.1', port: \d+, family: 'IPv4' \} to/);
  } finally {
    rmSync(file, { force: true });
  }
}, 90_000);
