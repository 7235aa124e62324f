import type { Runtime } from './runtime.ts';

/** io-deno under Deno, io-node under Node: the app code above this line is the same. */
export async function selectRuntime(): Promise<Runtime> {
  if ('Deno' in globalThis) return (await import('./runtime-deno.ts')).denoRuntime;
  return (await import('./runtime-node.ts')).nodeRuntime;
}
