/**
 * `natkit-stun <host[:port]>` — prints our public address as a STUN server sees it, and the RTT.
 * Exit status: 0 on an answer, 1 when the query failed, 2 on bad usage.
 * @module
 */
import { parseArgs } from 'node:util';
import { formatAddress, publicAddress } from './stun.ts';

const USAGE = `usage: natkit-stun <host[:port]> [options]

Asks a STUN server (RFC 8489 Binding request over UDP) for this host's public address.

options:
  --user NAME --password PASS   long-term credentials (answers a 401 challenge)
  --local ADDRESS               local address to bind (default: any)
  --port PORT                   local port to bind (default: any)
  --timeout MS                  give up after MS milliseconds (default 10000)
  --json                        print one JSON object instead of text
  -h, --help                    show this help`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(`natkit-stun: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const server = positionals[0];
  if (
    server === undefined ||
    positionals.length > 1 ||
    (values.user === undefined) !== (values.password === undefined)
  ) {
    console.error(USAGE);
    return 2;
  }
  const timeout = Number(values.timeout ?? 10_000);
  if (!(timeout > 0)) {
    console.error('natkit-stun: --timeout must be a positive number of ms');
    return 2;
  }
  try {
    const result = await publicAddress(server, {
      signal: AbortSignal.timeout(timeout),
      ...(values.user !== undefined && values.password !== undefined
        ? { credentials: { type: 'long-term', username: values.user, password: values.password } }
        : {}),
      ...(values.local === undefined ? {} : { localAddress: values.local }),
      ...(values.port === undefined ? {} : { localPort: Number(values.port) }),
    });
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`mapped address: ${formatAddress(result.mapped)}`);
      console.log(
        `rtt: ${result.rtt.toFixed(2)} ms${result.retransmits ? ` (${result.retransmits} retransmits)` : ''}`,
      );
      console.log(`server: ${formatAddress(result.server)}  local: ${formatAddress(result.local)}`);
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `natkit-stun: ${(error as Error)?.name === 'TimeoutError' ? `no answer within ${timeout} ms` : message}`,
    );
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      password: { type: 'string' },
      local: { type: 'string' },
      port: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

process.exitCode = await main(process.argv.slice(2));
