import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// io-deno must run under Deno: no node:* imports. io-core must run anywhere: no Deno globals either.
it.each([
  ['io-deno', /from ['"]node:/],
  ['io-core', /from ['"]node:|Deno\./],
])('%s reaches for no runtime it does not run on', (pkg, forbidden) => {
  const dir = new URL(`../../${pkg}/src/`, import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(readFileSync(new URL(f, dir), 'utf8'), f).not.toMatch(forbidden);
});
