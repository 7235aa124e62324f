/**
 * The real-browser test harness the packages share (ice-lite's agent test, the demo's serve
 * test): headless Debian Chromium, driven by playwright-core, in a private network namespace
 * with only loopback up — so Chromium's ICE candidates are 127.0.0.1 and nothing leaves the
 * machine. Two halves:
 * - the vitest side: {@link browserTestUnavailable} and {@link runInLoopbackNamespace}, which
 *   runs a scenario script under `unshare -n` and returns the JSON line it printed last;
 * - the scenario side (inside the namespace): {@link launchChromium} and {@link reportOutcome}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Debian's `chromium`; never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Why this machine cannot run the browser tests, or undefined when it can (CI is root with chromium). */
export function browserTestUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root for `unshare -n` (run as root, as CI does)';
  if (!existsSync(CHROMIUM_PATH))
    return `no Chromium at ${CHROMIUM_PATH} (run scripts/setup-peers.sh as root)`;
  for (const tool of ['unshare', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `\`${tool}\` not found (util-linux / iproute2)`;
  }
  return undefined;
}

/**
 * Runs `script` (TypeScript, from sources) in a new network namespace with only loopback up,
 * from the repository root, and parses the last line it printed as JSON. Throws with the
 * script's output when that line is not JSON.
 */
export function runInLoopbackNamespace<T>(
  script: string,
  options: { timeout: number; env?: NodeJS.ProcessEnv },
): T {
  const run = spawnSync(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      `ip link set lo up && exec "${process.execPath}" --conditions=source --import tsx "${script}"`,
    ],
    { cwd: root, encoding: 'utf8', timeout: options.timeout, env: options.env ?? process.env },
  );
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`no JSON outcome (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
}

/** Headless Chromium with the flags that make it use loopback candidates and stay offline. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--allow-loopback-in-peer-connection',
      '--use-fake-ui-for-media-stream',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}

/**
 * Ends a scenario script: prints the outcome as one JSON line and exits 0 when `ok` says so,
 * or prints `{ ok: false, error }` and exits 1 when the scenario threw.
 */
export function reportOutcome<T>(scenario: Promise<T>, ok: (outcome: T) => boolean): void {
  scenario.then(
    (outcome) => {
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
      process.exit(ok(outcome) ? 0 : 1);
    },
    (error: unknown) => {
      process.stdout.write(
        `${JSON.stringify({ ok: false, error: String(error instanceof Error ? error.stack : error) })}\n`,
      );
      process.exit(1);
    },
  );
}
