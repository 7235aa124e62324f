import { bindUdp } from '@natkit/io-node';
import type { Machine } from '@natkit/sans-io';
import type { BoundSocket, Runtime } from './runtime.ts';

export const nodeRuntime: Runtime = {
  name: `node ${process.version} + @natkit/io-node`,
  now: () => performance.now(),
  async bind(machine: Machine<unknown>, address: string, port: number): Promise<BoundSocket> {
    const driver = await bindUdp(machine, { address, port });
    const local = driver.localAddress;
    if (local === undefined) throw new Error('socket bound without an address');
    return {
      localAddress: local,
      update: (fn) => driver.update(fn),
      get counters() {
        return { datagramsIn: driver.stats.datagramsIn, datagramsOut: driver.stats.datagramsOut };
      },
      close: () => driver.close(),
    };
  },
  waitForSignal: () =>
    new Promise((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    }),
  // Under tsx, execArgv carries its loader and --conditions=source: the child runs our sources too.
  scriptCommand: (script) => ({ command: process.execPath, args: [...process.execArgv, script] }),
};
