import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { browserTestUnavailable, runInLoopbackNamespace } from '../../../scripts/chromium.ts';
import type { Gathering } from './browser/chromium-stun.ts';

const script = fileURLToPath(new URL('./browser/chromium-stun.ts', import.meta.url));
const reason = browserTestUnavailable();

/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …` */
function srflx(g: Gathering): string[] {
  return g.candidates.flatMap((line) => {
    const f = line.split(' ');
    return f[7] === 'srflx' ? [`${f[4]}:${f[5]}`] : [];
  });
}

describe('real browser: headless Chromium gathers with our StunServer as its STUN server', () => {
  // Skipped only when the machine cannot host the test at all; the reason is printed.
  // Under CI (CI=1, set by .ci/run) such a machine is a failure instead: CI must run it.
  it.skipIf(reason !== undefined && !process.env.CI)(
    `Chromium turns our Binding responses into server-reflexive candidates (IPv4 and IPv6)${reason ? ` (skipped: ${reason})` : ''}`,
    () => {
      if (reason !== undefined) throw new Error(`CI cannot run the browser test: ${reason}`);
      const result = runInLoopbackNamespace<{ ipv4: Gathering; ipv6: Gathering; error?: string }>(script, {
        timeout: 60_000,
      });
      expect(result.error).toBeUndefined();
      for (const g of [result.ipv4, result.ipv6]) {
        expect(g.errors, g.url).toEqual([]);
        expect(g.complete, g.url).toBe(true);
        expect(g.successes, g.url).toBeGreaterThan(0);
        // Chromium's candidate is exactly where our server saw its requests come from: it
        // decoded our XOR-MAPPED-ADDRESS (RFC 8489 §14.2) and accepted the response.
        expect(srflx(g), g.url).toHaveLength(1);
        expect(g.requestsFrom, g.url).toContain(srflx(g)[0]);
      }
      expect(srflx(result.ipv4)[0]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(srflx(result.ipv6)[0]).toMatch(/^::1:\d+$/);
    },
    70_000,
  );
});
