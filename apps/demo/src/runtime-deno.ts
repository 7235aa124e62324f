import { bindUdp } from '@natkit/io-deno';
import type { Machine } from '@natkit/sans-io';
import { type BoundSocket, boundSocket, type Runtime } from './runtime.ts';

interface DenoGlobal {
  version: { deno: string };
  execPath(): string;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  removeSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
}
const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;

export const denoRuntime: Runtime = {
  name: `deno ${deno.version.deno} + @natkit/io-deno`,
  now: () => performance.now(),
  async bind(machine: Machine<unknown>, address: string, port: number): Promise<BoundSocket> {
    return boundSocket(await bindUdp(machine, { address, port }));
  },
  // Deno's node:process signal emulation does not keep SIGINT from killing us; its own API does.
  waitForSignal: () =>
    new Promise((resolve) => {
      const on = (signal: 'SIGINT' | 'SIGTERM') => () => {
        deno.removeSignalListener('SIGINT', int);
        deno.removeSignalListener('SIGTERM', term);
        resolve(signal);
      };
      const int = on('SIGINT');
      const term = on('SIGTERM');
      deno.addSignalListener('SIGINT', int);
      deno.addSignalListener('SIGTERM', term);
    }),
  // --conditions=source: workspace packages resolve to their TypeScript sources (as under tsx), not dist.
  scriptCommand: (script) => ({
    command: deno.execPath(),
    args: ['run', '--allow-all', '--unstable-net', '--conditions=source', script],
  }),
};
