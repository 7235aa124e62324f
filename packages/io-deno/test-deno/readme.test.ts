// The README's TypeScript example must run as written under Deno.
import assert from 'node:assert/strict';

const ROOT = new URL('../../../', import.meta.url).pathname;

Deno.test('the README example runs and prints a mapped address', async () => {
  const readme = await Deno.readTextFile(new URL('../README.md', import.meta.url));
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code);
  // The test runs without --allow-write: feed the example to `deno run` on stdin.
  const child = new Deno.Command(Deno.execPath(), {
    args: ['run', '--config', 'deno.json', '--unstable-net', '--allow-net', '--ext=ts', '-'],
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    stdin: 'piped',
    stdout: 'piped',
    stderr: 'piped',
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.match(stdout, /^mapped 127\.0\.0\.1:\d+, rtt \d+\.\d\d ms$/m);
});
