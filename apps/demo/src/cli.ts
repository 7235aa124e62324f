// `pnpm demo [serve ...]`: the natkit demo app. Runs on Node (io-node) or Deno (io-deno).
import { runDefaultDemo } from './demo-default.ts';
import { selectRuntime } from './select-runtime.ts';

const rt = await selectRuntime();
const [command, ...rest] = process.argv.slice(2);
let code: number;
switch (command) {
  case undefined:
  case 'run':
    code = await runDefaultDemo(rt, { sessions: 8, pings: 10, deadlineMs: 20_000 });
    break;
  case 'serve': {
    const { runServe } = await import('./serve.ts');
    code = await runServe(rt, rest);
    break;
  }
  case 'help':
  case '--help':
  case '-h':
    console.log(`usage: pnpm demo                 offline demo over loopback (exits 0 when green)
       pnpm demo serve [--host 127.0.0.1] [--port 3478] [--http-port 8080] [--stun host:port ...]
                       [--max-sessions 1000]`);
    code = 0;
    break;
  default:
    console.error(`unknown command ${JSON.stringify(command)} (try: pnpm demo help)`);
    code = 2;
}
process.exit(code);
