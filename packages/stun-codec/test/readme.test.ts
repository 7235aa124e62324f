/**
 * Runs every ```ts block of the README against the sources and checks each console.log
 * against the block's `// -> expected` comments, in order, so the examples stay runnable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatWithOptions } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(tmpdir(), 'stun-codec-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README examples', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
  });
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and prints what it says`, async () => {
      const file = join(dir, `example-${i}.ts`);
      writeFileSync(file, code.replaceAll("'@natkit/stun-codec'", JSON.stringify(source)));
      const printed: string[] = [];
      const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        printed.push(formatWithOptions({ breakLength: Number.POSITIVE_INFINITY }, ...args));
      });
      try {
        await import(pathToFileURL(file).href);
      } finally {
        spy.mockRestore();
      }
      const expected = [...code.matchAll(/\/\/ -> (.*)$/gm)].map((m) => m[1]!.trim());
      expect(printed).toEqual(expected);
    });
  });
});
