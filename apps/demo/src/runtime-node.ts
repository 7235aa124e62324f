import { bindUdp } from '@natkit/io-node';
import type { Machine } from '@natkit/sans-io';
import { type BoundSocket, boundSocket, type Runtime } from './runtime.ts';

export const nodeRuntime: Runtime = {
  name: `node ${process.version} + @natkit/io-node`,
  now: () => performance.now(),
  async bind(machine: Machine<unknown>, address: string, port: number): Promise<BoundSocket> {
    return boundSocket(await bindUdp(machine, { address, port }));
  },
  waitForSignal: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    }),
  // Under tsx, execArgv carries its loader and --conditions=source: the child runs our sources too.
  scriptCommand: (script) => ({ command: process.execPath, args: [...process.execArgv, script] }),
};
