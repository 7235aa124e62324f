/**
 * Real-browser interop for the STUN server: headless Chromium gathers ICE candidates with our
 * `StunServer` (on io-node) as its `iceServers` entry, over 127.0.0.1 and ::1, and must turn
 * our Binding responses into server-reflexive candidates whose address is the one the server
 * saw (with host candidates hidden, as Chromium does by default without media permissions, a
 * server-reflexive candidate is what a page gets).
 *
 * Run inside a private network namespace with only loopback (the vitest suite does this):
 *   unshare -n sh -c 'ip link set lo up && exec node --conditions=source --import tsx <this file>'
 * Prints one JSON line `{ ipv4, ipv6 }` (each a {@link Gathering}) on stdout.
 */
import type { SocketAddress } from '@natkit/sans-io';
import { StunServer } from '@natkit/stun-agent';
import { launchChromium, reportOutcome } from '../../../../scripts/chromium.ts';
import { bindUdp } from '../../src/index.ts';
import { RecordingMachine } from '../recording.ts';

/** What Chromium gathered against one STUN server URL, and what our server saw. */
export interface Gathering {
  url: string;
  /** `candidate:` lines Chromium emitted. */
  candidates: string[];
  /** `icecandidateerror` events: `<errorCode> <errorText>`. */
  errors: string[];
  /** Whether gathering completed (a null candidate) within the page's 15 s. */
  complete: boolean;
  /** Where the requests to our server came from (`address:port`, distinct). */
  requestsFrom: string[];
  /** Our server's success responses. */
  successes: number;
}

/** In the page: gather with `url` as the only ICE server until complete or 15 s pass. */
const gatherInPage = async (url: string) => {
  const pc = new RTCPeerConnection({ iceServers: [{ urls: url }] });
  const candidates: string[] = [];
  const errors: string[] = [];
  pc.onicecandidateerror = (e) => {
    const err = e as RTCPeerConnectionIceErrorEvent;
    errors.push(`${err.errorCode} ${err.errorText}`);
  };
  const complete = new Promise<boolean>((resolve) => {
    pc.onicecandidate = (e) => {
      if (e.candidate === null) resolve(true);
      else if (e.candidate.candidate !== '') candidates.push(e.candidate.candidate);
    };
    setTimeout(() => resolve(false), 15_000);
  });
  pc.createDataChannel('probe');
  await pc.setLocalDescription(await pc.createOffer());
  const done = await complete;
  pc.close();
  return { candidates, errors, complete: done };
};

const key = (a: SocketAddress) => `${a.address}:${a.port}`;

type Page = Awaited<ReturnType<Awaited<ReturnType<typeof launchChromium>>['newPage']>>;

async function gather(page: Page, host: string): Promise<Gathering> {
  const server = new StunServer({ software: 'natkit chromium test' });
  const seen = new Set<string>();
  const driver = await bindUdp(new RecordingMachine(server, (from) => seen.add(key(from))), {
    address: host,
  });
  const { port } = driver.localAddress!;
  const url = `stun:${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    const result = await page.evaluate(gatherInPage, url);
    return { url, ...result, requestsFrom: [...seen], successes: server.stats.success };
  } finally {
    await driver.close();
  }
}

async function main() {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    return {
      ipv4: await gather(page, '127.0.0.1'),
      ipv6: await gather(page, '::1'),
    };
  } finally {
    await browser.close();
  }
}

reportOutcome(main(), (o) => o.ipv4.successes > 0 && o.ipv6.successes > 0);
