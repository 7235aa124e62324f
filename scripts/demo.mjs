// `pnpm demo`: runs apps/demo when it exists; until then the stun-codec example.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'apps', 'demo', 'src', 'cli.ts');
const fallback = join(root, 'examples', 'codec.ts');
const target = existsSync(cli) ? cli : fallback;
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const res = spawnSync(tsx, ['--conditions=source', target, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(res.status ?? 1);
