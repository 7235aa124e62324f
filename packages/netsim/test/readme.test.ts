import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'netsim-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the README example runs and prints what it says', async () => {
  const readme = readFileSync(join(here, '../README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const src = block!
    .replace("'@natkit/netsim'", JSON.stringify(pathToFileURL(join(here, '../src/index.ts')).href))
    .replace(
      "'@natkit/sans-io'",
      JSON.stringify(pathToFileURL(join(here, '../../sans-io/src/index.ts')).href),
    );
  const file = join(dir, 'example.ts');
  writeFileSync(file, src);
  const lines: unknown[][] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args);
  });
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    log.mockRestore();
  }
  expect(lines[0]?.[1]).toBe('203.0.113.7:1024');
  expect(lines[1]?.[0]).toMatchObject([{ external: { address: '203.0.113.7', port: 1024 } }]);
  expect(String(lines[2]?.[0])).toContain('translated by router');
});
