/**
 * Headless Chromium against `pnpm demo serve`: N RTCPeerConnections created at once by the
 * served page all reach `connected` through the server's one UDP port.
 *
 * Run inside a private network namespace with only loopback (browser.test.ts does this):
 *   unshare -n sh -c 'ip link set lo up && exec node --conditions=source --import tsx <this file>'
 * The server is started from this process (same namespace). Prints one JSON line on stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium, reportOutcome } from '../../../../scripts/chromium.ts';

const N = Number(process.env.NATKIT_PEERS ?? 24);
const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

interface Outcome {
  ok: boolean;
  reason?: string;
  peers: number;
  browserStates: string[];
  udpPort?: number;
  serverConnected?: number;
  selectedLocal?: string[];
  pagePair?: string;
  checksAnswered?: number;
  connectMs?: number;
  serveExit?: number | null;
}

async function main(): Promise<Outcome> {
  const server = spawn(
    process.execPath,
    [...process.execArgv, cli, 'serve', '--port', '0', '--http-port', '0'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  server.stdout.on('data', (c: Buffer) => {
    log += c.toString();
  });
  server.stderr.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  const started = Date.now();
  while (!/HTTP http:\/\/\S+\//.test(log)) {
    if (Date.now() - started > 30_000 || server.exitCode !== null) {
      return { ok: false, reason: `serve did not start: ${log}`, peers: N, browserStates: [] };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = /HTTP (http:\/\/\S+)\//.exec(log)![1]!;
  const udpPort = Number(/UDP 127\.0\.0\.1:(\d+)/.exec(log)![1]);

  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const t0 = Date.now();
    // All at once: the page's own connect(n), as the "Connect ×n" button would.
    await page.evaluate(
      (n) => (window as unknown as { natkit: { connect(n: number): Promise<unknown> } }).natkit.connect(n),
      N,
    );
    let states: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      states = await page.evaluate(() =>
        (window as unknown as { natkit: { states(): string[] } }).natkit.states(),
      );
      if (states.length === N && states.every((s) => s === 'connected' || s === 'completed')) break;
      if (states.some((s) => s === 'failed' || s === 'error')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const connectMs = Date.now() - t0;
    // Chromium nominates a moment after it reports connected: wait for the server to agree.
    let stats: {
      sessionsConnected: number;
      sessions: { state: string; selected?: { local: string; remote: string }; checksAnswered: number }[];
    } = { sessionsConnected: 0, sessions: [] };
    for (let i = 0; i < 50; i++) {
      stats = await (await fetch(`${base}/stats`)).json();
      if (stats.sessionsConnected >= N) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const all = states.length === N && states.every((s) => s === 'connected' || s === 'completed');
    // The page shows each connection's selected pair (from getStats) and the server's sessions.
    let pageView: { pairs: string[]; serverRows: number } = { pairs: [], serverRows: 0 };
    for (let i = 0; i < 40; i++) {
      pageView = await page.evaluate(() => ({
        pairs: (window as unknown as { natkit: { conns: { pair: string }[] } }).natkit.conns.map(
          (c) => c.pair,
        ),
        serverRows: document.querySelectorAll('#sessions tbody tr').length,
      }));
      if (pageView.pairs.every((p) => p.includes(`:${udpPort}`)) && pageView.serverRows >= N) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const selectedLocal = [...new Set(stats.sessions.map((s) => s.selected?.local ?? '-'))];
    const onePort = selectedLocal.length === 1 && selectedLocal[0] === `127.0.0.1:${udpPort}`;
    const pageShows =
      pageView.pairs.every((p) => p.includes(`127.0.0.1:${udpPort}`)) && pageView.serverRows >= N;
    const ok = all && stats.sessionsConnected >= N && onePort && pageShows;
    return {
      ok,
      ...(ok
        ? {}
        : {
            reason: !all
              ? `browser states: ${states.join(',')}`
              : !onePort
                ? `selected local addresses ${selectedLocal.join(',')}`
                : !pageShows
                  ? `page shows pairs ${JSON.stringify(pageView.pairs.slice(0, 3))} and ${pageView.serverRows} server rows`
                  : `server sees ${stats.sessionsConnected} connected`,
          }),
      peers: N,
      browserStates: states,
      udpPort,
      serverConnected: stats.sessionsConnected,
      selectedLocal,
      pagePair: pageView.pairs[0] ?? '',
      checksAnswered: stats.sessions.reduce((a, s) => a + s.checksAnswered, 0),
      connectMs,
    };
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await exited;
  }
}

reportOutcome(main(), (outcome) => outcome.ok);
