/**
 * Runs a package README's first ```ts block as written, for the packages whose README test
 * checks the example's output from a child process (it opens sockets, or must exit cleanly).
 * The block is written into the package directory, so its imports by package name resolve
 * the way a user's would (the package's own exports, its dependencies), and run from sources
 * with tsx.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The first ```ts block of `<packageDir>/README.md`, or undefined. */
export function readmeExample(packageDir: string): string | undefined {
  return /```ts\n([\s\S]*?)```/.exec(readFileSync(join(packageDir, 'README.md'), 'utf8'))?.[1];
}

/** Runs {@link readmeExample} in a child process (cwd: the package); throws if there is none. */
export function runReadmeExample(packageDir: string, timeout: number): SpawnSyncReturns<string> {
  const code = readmeExample(packageDir);
  if (code === undefined) throw new Error(`no \`\`\`ts block in ${packageDir}/README.md`);
  const file = join(packageDir, `.readme-example-${process.pid}.ts`);
  writeFileSync(file, code);
  try {
    return spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], {
      cwd: packageDir,
      encoding: 'utf8',
      timeout,
    });
  } finally {
    rmSync(file, { force: true });
  }
}
