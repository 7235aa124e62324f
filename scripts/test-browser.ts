/**
 * Runs the portable suites (scripts/portable-suites.mjs: the protocol packages' Deno suites)
 * inside headless Debian Chromium, to show that the same code runs in a browser unchanged:
 * esbuild bundles them from sources for the browser platform (no Node built-ins, no shims of
 * natkit code; `Deno.test` only registers, and `node:assert/strict` is chai's assert), the
 * bundle is loaded into an empty page, and each registered test runs there. Prints one line
 * per test and writes the counts to NATKIT_SUMMARY_FILE when set. Needs Chromium
 * (scripts/setup-peers.sh installs it) but no network: the page loads nothing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { CHROMIUM_PATH, launchChromium } from './chromium.ts';
import { portableSuiteFiles } from './portable-suites.mjs';

const report = (passed: number, failed: number) => {
  if (process.env.NATKIT_SUMMARY_FILE)
    writeFileSync(process.env.NATKIT_SUMMARY_FILE, JSON.stringify({ passed, failed }));
};

if (!existsSync(CHROMIUM_PATH)) {
  // Like the other browser tests: skipped on a machine without Chromium, a failure under CI.
  console.log(
    `no Chromium at ${CHROMIUM_PATH} (run scripts/setup-peers.sh as root): ${process.env.CI ? 'failed' : 'skipped'}`,
  );
  report(0, process.env.CI ? 1 : 0);
  process.exit(process.env.CI ? 1 : 0);
}

const root = fileURLToPath(new URL('../', import.meta.url));
const files: string[] = portableSuiteFiles(root);

// The shim module is imported first, so `Deno.test` exists before any suite's body runs.
const entry = [
  `globalThis.Deno = { test: (name, fn) => globalThis.__natkitTests.push({ name, fn }) };`,
  `globalThis.__natkitTests = [];`,
].join('\n');
const bundle = await build({
  stdin: {
    contents: [`import './__deno-shim.js';`, ...files.map((f) => `import ${JSON.stringify(f)};`)].join('\n'),
    resolveDir: root,
    sourcefile: 'portable-suites.js',
  },
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: 'chrome120',
  conditions: ['source'],
  // The packages say `"sideEffects": false`, which would drop the bare imports of the suites.
  ignoreAnnotations: true,
  alias: { 'node:assert/strict': './scripts/browser-assert.ts' },
  plugins: [
    {
      name: 'deno-shim',
      setup(b) {
        b.onResolve({ filter: /^\.\/__deno-shim\.js$/ }, () => ({ path: 'deno-shim', namespace: 'shim' }));
        b.onLoad({ filter: /.*/, namespace: 'shim' }, () => ({ contents: entry, loader: 'js' }));
      },
    },
  ],
  logLevel: 'warning',
});
const code = bundle.outputFiles[0]!.text;

interface Outcome {
  name: string;
  error?: string;
}

const browser = await launchChromium();
let outcomes: Outcome[];
let userAgent: string;
try {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.setContent('<!doctype html><title>natkit portable suites</title>');
  await page.addScriptTag({ content: code });
  if (pageErrors.length > 0) throw new Error(`the bundle failed to load: ${pageErrors.join('\n')}`);
  userAgent = await page.evaluate(() => navigator.userAgent);
  outcomes = await page.evaluate(async () => {
    const tests = (globalThis as unknown as { __natkitTests: { name: string; fn: () => unknown }[] })
      .__natkitTests;
    const out: { name: string; error?: string }[] = [];
    for (const t of tests) {
      try {
        await t.fn();
        out.push({ name: t.name });
      } catch (e) {
        out.push({ name: t.name, error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) });
      }
    }
    return out;
  });
} finally {
  await browser.close();
}

console.log(`${files.length} suite files in ${userAgent}`);
for (const o of outcomes)
  console.log(`${o.error === undefined ? 'ok  ' : 'FAIL'} ${o.name}${o.error ? `\n${o.error}` : ''}`);
const passed = outcomes.filter((o) => o.error === undefined).length;
const failed = outcomes.length - passed + (outcomes.length === 0 ? 1 : 0);
console.log(`${passed} passed, ${failed} failed`);
report(passed, failed);
process.exit(failed === 0 ? 0 : 1);
