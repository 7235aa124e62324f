/**
 * A private "internet" of Linux network namespaces for `real-nat.test.ts` (test side, runs in the
 * vitest process): real NAT routers (netfilter/conntrack, configured with nftables) between LANs
 * and a public /24, all joined by veth pairs only — nothing is routed out of the machine.
 *
 * ```
 *   lan1 10.0.1.2 ── 10.0.1.1 nat1 203.0.113.11 ─┐
 *                                                 br0 203.0.113.1, .2  inet (STUN servers, lite agents)
 *   lan2 10.0.2.2 ── 10.0.2.1 nat2 203.0.113.12 ─┘
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * How a NAT router behaves. `mapping`: Linux's plain masquerade (keeps the source port when that
 * 5-tuple is free), or masquerade `random` (a port drawn per destination). `firewall`: whether the
 * router also drops unsolicited packets from the internet, as home routers do (an input and a
 * forward filter chain accepting only `ct state established,related` from the public side).
 */
export interface NatKind {
  mapping: 'masquerade' | 'random';
  firewall: boolean;
}

/** Why this machine cannot build the namespaces, or undefined when it can. */
export function realNatUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root for `ip netns` (run as root, as CI does)';
  for (const tool of ['ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `\`${tool}\` not found (iproute2 / nftables: scripts/setup-peers.sh installs them)`;
  }
  const probe = `nk-probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`;
  const nft = spawnSync('ip', ['netns', 'exec', probe, 'nft', 'add', 'table', 'ip', 'probe'], {
    encoding: 'utf8',
  });
  spawnSync('ip', ['netns', 'del', probe]);
  if (nft.status !== 0) return `nftables does not work in a namespace: ${nft.stderr.trim()}`;
  return undefined;
}

function run(args: string[], input?: string): void {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', input: input ?? '' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
}

/** A LAN behind its NAT router. */
export interface Site {
  /** Namespace of the LAN host. */
  lan: string;
  /** Namespace of the router. */
  nat: string;
  /** The LAN host's address. */
  host: string;
  /** The router's public address (what masquerading rewrites the source to). */
  publicAddress: string;
}

/**
 * The internet host's addresses: STUN servers and lite agents live here. Two, so that two STUN
 * servers differ in address, as separate servers do (their server-reflexive candidates then have
 * different foundations, RFC 8445 §5.1.1.3).
 */
export const INTERNET_HOSTS = ['203.0.113.1', '203.0.113.2'] as const;

export class Lab {
  readonly #prefix: string;
  readonly #namespaces: string[] = [];
  readonly #procs: { stop(): Promise<void> }[] = [];
  /** The namespace of the internet host (and bridge). */
  readonly inet: string;

  constructor(tag: string) {
    this.#prefix = `nk-${process.pid}-${tag}`;
    try {
      this.inet = this.#netns('inet');
      run(['ip', '-n', this.inet, 'link', 'add', 'br0', 'type', 'bridge']);
      for (const a of INTERNET_HOSTS) run(['ip', '-n', this.inet, 'addr', 'add', `${a}/24`, 'dev', 'br0']);
      run(['ip', '-n', this.inet, 'link', 'set', 'br0', 'up']);
    } catch (e) {
      this.#deleteNamespaces();
      throw e;
    }
  }

  #deleteNamespaces(): void {
    for (const ns of this.#namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    this.#namespaces.length = 0;
  }

  #netns(name: string): string {
    const ns = `${this.#prefix}-${name}`;
    run(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * LAN `10.0.<n>.0/24` behind a router at `203.0.113.<10+n>` that forwards and masquerades
   * (nftables, postrouting, on its public interface). Mapping `random` adds masquerade's `random`
   * flag: the source port is then never kept but drawn per connection from a hash over the
   * addresses and the destination port — address-and-port-dependent mapping, a "symmetric" NAT
   * (RFC 4787 §4.1). Filtering is conntrack's either way: only replies to a connection's exact
   * 5-tuple are translated back (address-and-port-dependent filtering).
   */
  site(n: number, kind: NatKind): Site {
    const nat = this.#netns(`nat${n}`);
    const lan = this.#netns(`lan${n}`);
    const publicAddress = `203.0.113.${10 + n}`;
    const host = `10.0.${n}.2`;
    run(['ip', '-n', nat, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', `p${n}`, 'netns', this.inet]);
    run(['ip', '-n', this.inet, 'link', 'set', `p${n}`, 'master', 'br0', 'up']);
    run(['ip', '-n', nat, 'addr', 'add', `${publicAddress}/24`, 'dev', 'wan']);
    run(['ip', '-n', nat, 'link', 'set', 'wan', 'up']);
    run(['ip', '-n', nat, 'route', 'add', 'default', 'via', INTERNET_HOSTS[0]]);
    run(['ip', '-n', lan, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'lan', 'netns', nat]);
    run(['ip', '-n', nat, 'addr', 'add', `10.0.${n}.1/24`, 'dev', 'lan']);
    run(['ip', '-n', nat, 'link', 'set', 'lan', 'up']);
    run(['ip', '-n', lan, 'addr', 'add', `${host}/24`, 'dev', 'eth0']);
    run(['ip', '-n', lan, 'link', 'set', 'eth0', 'up']);
    run(['ip', '-n', lan, 'route', 'add', 'default', 'via', `10.0.${n}.1`]);
    run(['ip', 'netns', 'exec', nat, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const flags = kind.mapping === 'random' ? ' random' : '';
    const firewall = `table inet filter {
        chain input {
          type filter hook input priority filter; policy drop;
          iif "lo" accept; iifname "lan" accept; ct state established,related accept
        }
        chain forward {
          type filter hook forward priority filter; policy drop;
          iifname "lan" oifname "wan" accept; ct state established,related accept
        }
      }`;
    run(
      ['ip', 'netns', 'exec', nat, 'nft', '-f', '-'],
      `table ip nat {
        chain postrouting {
          type nat hook postrouting priority srcnat; policy accept;
          oifname "wan" masquerade${flags}
        }
      }
      ${kind.firewall ? firewall : ''}\n`,
    );
    return { lan, nat, host, publicAddress };
  }

  /**
   * The NAT router's conntrack table (`/proc/net/nf_conntrack`, one connection a line), or
   * undefined where the kernel does not offer it (CONFIG_NF_CONNTRACK_PROCFS).
   */
  conntrack(site: Site): string | undefined {
    const r = spawnSync('ip', ['netns', 'exec', site.nat, 'cat', '/proc/net/nf_conntrack'], {
      encoding: 'utf8',
    });
    return r.status === 0 ? r.stdout : undefined;
  }

  /** Runs a script of `real-nat/` from sources in namespace `ns`; one JSON message per stdout line. */
  spawn<Out, In>(ns: string, script: string, args: string[]): Proc<Out, In> {
    const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--conditions=source', '--import', 'tsx', file, ...args],
      { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const p = new Proc<Out, In>(child, `${script}@${ns}`);
    this.#procs.push(p);
    return p;
  }

  /** Stops every process started here, then deletes every namespace (and so every veth and rule). */
  async close(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop()));
    this.#deleteNamespaces();
  }
}

/** A child speaking JSON lines. */
export class Proc<Out, In> {
  readonly messages: Out[] = [];
  readonly #child: ChildProcess;
  readonly #name: string;
  #stderr = '';
  #exited: Promise<void>;
  #listeners: ((m: Out) => void)[] = [];

  constructor(child: ChildProcess, name: string) {
    this.#child = child;
    this.#name = name;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr += d;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: Out;
      try {
        m = JSON.parse(line) as Out;
      } catch {
        this.#stderr += `[stdout] ${line}\n`;
        return;
      }
      this.messages.push(m);
      for (const l of this.#listeners) l(m);
    });
    this.#exited = new Promise((resolve) => child.on('close', () => resolve()));
    child.stdin!.on('error', () => {}); // EPIPE after the child exited: its stderr tells why
  }

  /** Calls `listener` for every message, those already received first. */
  onMessage(listener: (m: Out) => void): void {
    for (const m of this.messages) listener(m);
    this.#listeners.push(listener);
  }

  send(m: In): void {
    if (this.#child.exitCode === null) this.#child.stdin!.write(`${JSON.stringify(m)}\n`);
  }

  /** The first message (already received or coming) that `match` accepts; rejects after `ms`. */
  waitFor<M extends Out>(match: (m: Out) => m is M, ms: number): Promise<M>;
  waitFor(match: (m: Out) => boolean, ms: number): Promise<Out>;
  waitFor(match: (m: Out) => boolean, ms: number): Promise<Out> {
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return this.next(match, ms);
  }

  /** The first message still to come that `match` accepts; rejects after `ms`. */
  next(match: (m: Out) => boolean, ms: number): Promise<Out> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        reject(new Error(`${this.#name}: no matching message in ${ms} ms; stderr:\n${this.#stderr}`));
      }, ms);
      const listener = (m: Out) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.#listeners = this.#listeners.filter((l) => l !== listener);
        resolve(m);
      };
      this.#listeners.push(listener);
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Ends stdin (the scripts exit on it), then SIGKILLs this child if it is still there after 2 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.stdin!.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}
