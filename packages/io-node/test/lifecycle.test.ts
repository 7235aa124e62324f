import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/exit-after-close.ts', import.meta.url));

it('after close() the process exits on its own: no dangling timer, socket or rejection', async () => {
  const child = spawn(`${root}node_modules/.bin/tsx`, ['--conditions=source', fixture], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  // If the driver leaked a handle the child would never exit: kill it so the test fails clearly.
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  expect({ code, signal, err }).toEqual({ code: 0, signal: null, err: '' });
  expect(JSON.parse(out)).toEqual({
    echoed: 'hi',
    machineErrors: 1,
    busy: true,
    sendErrors: 1,
    aborted: true,
  });
}, 60_000);
