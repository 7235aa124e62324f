import type { Runtime } from './runtime.ts';

export async function runServe(_rt: Runtime, _args: string[]): Promise<number> {
  console.error('serve: not implemented yet');
  return 1;
}
