import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('./browser/chromium-lite.ts', import.meta.url));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why this machine cannot run the browser test, or undefined when it can (CI is root with chromium). */
function missing(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root for `unshare -n` (run as root, as CI does)';
  if (!existsSync(chromiumPath)) return `no Chromium at ${chromiumPath} (run scripts/setup-peers.sh as root)`;
  for (const tool of ['unshare', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `\`${tool}\` not found (util-linux / iproute2)`;
  }
  return undefined;
}

const reason = missing();

describe('real browser: headless Chromium against the lite agent over 127.0.0.1', () => {
  // Skipped only when the machine cannot host the test at all; the reason is printed.
  it.skipIf(reason !== undefined)(
    `Chromium's iceConnectionState reaches connected${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
      // Chromium and the agent share a private network namespace with only loopback up.
      const run = spawnSync(
        'unshare',
        [
          '-n',
          'sh',
          '-c',
          `ip link set lo up && exec "${process.execPath}" --conditions=source --import tsx "${script}"`,
        ],
        { cwd: root, encoding: 'utf8', timeout: 100_000 },
      );
      const last = run.stdout.trim().split('\n').at(-1) ?? '';
      let outcome: {
        ok: boolean;
        reason?: string;
        browserStates: string[];
        agentEvents: string[];
        selected?: { local: string; remote: string };
        checksAnswered: number;
        errorsSent: number;
      };
      try {
        outcome = JSON.parse(last);
      } catch {
        throw new Error(`no JSON outcome (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
      }
      expect(outcome.reason).toBeUndefined();
      expect(outcome.ok).toBe(true);
      expect(outcome.browserStates).toContain('connected');
      expect(outcome.agentEvents).toContain('state:connected');
      expect(outcome.selected?.local).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(outcome.selected?.remote).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(outcome.checksAnswered).toBeGreaterThan(0);
      expect(outcome.errorsSent).toBe(0);
    },
    120_000,
  );
});
