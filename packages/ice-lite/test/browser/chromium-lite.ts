/**
 * Real-browser interop: headless Chromium's RTCPeerConnection against our agents, over
 * 127.0.0.1 — first a lite agent (the SFU case, on a dual-stack socket bound to `::` that
 * offers 127.0.0.1 and ::1, as a server bound to the wildcard would; Chromium gathers no IPv6
 * loopback candidate, so the IPv4 one must be chosen through the IPv4-mapped socket), then a full agent in the controlled role
 * (Chromium offers and nominates), then a full agent in the controlling role (we offer, and
 * Chromium, controlled, must accept our nomination), then the controlled full agent again with
 * Chromium's host candidates signalled as mDNS `.local` names, as Chromium itself signals them
 * on the open web (here it cannot: no multicast in the namespace, so the test renames them).
 *
 * Run inside a private network namespace with only loopback (the vitest suite does this):
 *   unshare -n sh -c 'ip link set lo up && exec node --conditions=source --import tsx <this file>'
 * Prints one JSON line `{ lite, full, controlling, mdns }` (each an {@link Outcome}) on stdout. Chromium never leaves the
 * namespace.
 */
import { bindUdp } from '@natkit/io-node';
import type { Browser } from 'playwright-core';
import { launchChromium, reportOutcome } from '../../../../scripts/chromium.ts';
import {
  IceAgent as Agent,
  formatIceLines,
  type IceAgent,
  type IceEvent,
  IceTransport,
  parseIceDescription,
} from '../../src/index.ts';

export interface Outcome {
  ok: boolean;
  reason?: string;
  browserStates: string[];
  agentEvents: string[];
  selected?: { local: string; remote: string };
  checksAnswered: number;
  checksSent: number;
  errorsSent: number;
  agentState?: string;
  /** The types of the agent's remote candidates at the end (signalled, then peer-reflexive). */
  remoteTypes: string[];
  /**
   * Application datagrams `IceTransport` handed on, by RFC 7983 class of their first byte:
   * Chromium starts DTLS (its ClientHello, content type 22) on the pair once ICE connects.
   */
  dataIn: { dtls: number; other: number };
  /** Chromium's stats show a succeeded candidate pair that is nominated (RFC 8445 §8). */
  browserNominated?: boolean;
  /** What happened when, for diagnosing a failure. */
  timeline?: string[];
}

/** A minimal data-channel answer: just enough SDP for Chromium to run ICE against us. */
function answerSdp(offer: string, agent: IceAgent): string {
  return dataChannelSdp(agent, /^a=mid:(\S+)/m.exec(offer)?.[1] ?? '0', 'passive');
}

/** The same as an offer, for when our agent initiates (and so controls, RFC 8445 §6.1.1). */
function offerSdp(agent: IceAgent): string {
  return dataChannelSdp(agent, '0', 'actpass');
}

function dataChannelSdp(agent: IceAgent, mid: string, setup: 'passive' | 'actpass'): string {
  const c = agent.localCandidates[0]!; // the `c=` line's address: IPv4 first
  // Any syntactically valid fingerprint: DTLS will fail after ICE (we do not do DTLS).
  const fingerprint = Array.from({ length: 32 }, (_, i) => ((i * 37) & 0xff).toString(16).padStart(2, '0'))
    .join(':')
    .toUpperCase();
  const ice = formatIceLines({
    ...agent.localCredentials,
    candidates: agent.localCandidates,
    endOfCandidates: true,
  });
  return `${[
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    // A lite agent says so at session level (RFC 8839 §5.3); a full one does not.
    ...(agent.mode === 'lite' ? ['a=ice-lite'] : []),
    `a=group:BUNDLE ${mid}`,
    `m=application ${c.address.port} UDP/DTLS/SCTP webrtc-datachannel`,
    `c=IN IP4 ${c.address.address}`,
    `a=mid:${mid}`,
    ...ice,
    `a=fingerprint:sha-256 ${fingerprint}`,
    `a=setup:${setup}`,
    'a=sctp-port:5000',
  ].join('\r\n')}\r\n`;
}

type Page = Awaited<ReturnType<Browser['newPage']>>;
type Driver = Awaited<ReturnType<typeof bindUdp<IceTransport>>>;

/** Waits in the page until Chromium's ICE connects (true) or fails or 30 s pass (false). */
const waitConnected = async (): Promise<boolean> => {
  const w = window as unknown as { pc: RTCPeerConnection };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const s = w.pc.iceConnectionState;
    if (s === 'connected' || s === 'completed') return true;
    if (s === 'failed') return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

/** In the page: whether Chromium's stats list a succeeded, nominated candidate pair. */
const nominatedInChromium = async (): Promise<boolean> => {
  const w = window as unknown as { pc: RTCPeerConnection };
  const report = await w.pc.getStats();
  for (const s of report.values()) {
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated === true) return true;
  }
  return false;
};

/**
 * Chromium's description as a browser that hides its local addresses signals it: every host
 * candidate's address replaced by an mDNS name (draft-ietf-mmusic-mdns-ice-candidates), which
 * a server cannot resolve. The agent then has no usable remote candidate at all.
 */
const withMdnsNames = (sdp: string): string =>
  sdp.replace(/^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( \d+ typ host)/gm, (_, head, _addr, tail) => {
    return `${head}1f0e3dad-9990-4c5b-a5f0-2f3c1f1c5d2e.local${tail}`;
  });

/** Gives the agent the ICE credentials and candidates of Chromium's description. */
function takeRemote(driver: Driver, sdp: string): void {
  const remote = parseIceDescription(sdp);
  if (remote.ufrag === undefined || remote.pwd === undefined) {
    throw new Error('description without ICE credentials');
  }
  driver.update(({ agent: a }) => {
    a.setRemoteCredentials({ ufrag: remote.ufrag!, pwd: remote.pwd! });
    for (const c of remote.candidates) a.addRemoteCandidate(c);
    a.endOfRemoteCandidates();
  });
}

/** In the page: a fresh RTCPeerConnection as `window.pc`, its ICE states kept in `window.states`. */
const openPeerConnection = () => {
  const w = window as unknown as { pc: RTCPeerConnection; states: string[] };
  const pc = new RTCPeerConnection();
  w.pc = pc;
  w.states = [];
  pc.oniceconnectionstatechange = () => w.states.push(pc.iceConnectionState);
};

/**
 * In the page: the local description once gathering is complete, so that it lists Chromium's
 * loopback candidate (non-trickle), or after 3 s.
 */
const gatheredDescription = async (): Promise<string> => {
  const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 3000);
  });
  return pc.localDescription!.sdp;
};

/** Chromium offers (and controls); we answer. */
async function chromiumOffers(page: Page, agent: IceAgent, driver: Driver, mdns: boolean): Promise<boolean> {
  await page.evaluate(openPeerConnection);
  await page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    pc.createDataChannel('natkit');
    await pc.setLocalDescription(await pc.createOffer());
  });
  const offer = await page.evaluate(gatheredDescription);
  takeRemote(driver, mdns ? withMdnsNames(offer) : offer);
  await page.evaluate(
    async (sdp) => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      await pc.setRemoteDescription({ type: 'answer', sdp });
    },
    answerSdp(offer, agent),
  );
  return page.evaluate(waitConnected);
}

/** We offer (and control); Chromium answers. */
async function weOffer(page: Page, agent: IceAgent, driver: Driver): Promise<boolean> {
  await page.evaluate(openPeerConnection);
  await page.evaluate(async (sdp) => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
  }, offerSdp(agent));
  takeRemote(driver, await page.evaluate(gatheredDescription));
  return page.evaluate(waitConnected);
}

const describe = (e: IceEvent): string =>
  e.type === 'state'
    ? `state:${e.state}`
    : e.type === 'selected-pair'
      ? `selected:${e.local.address.address}:${e.local.address.port}->${e.remote.address.address}:${e.remote.address.port}`
      : e.type;

type Mode = 'lite' | 'full' | 'controlling' | 'mdns';

async function scenario(browser: Browser, mode: Mode): Promise<Outcome> {
  // The initiator controls (RFC 8445 §6.1.1): against Chromium's offer a full agent is
  // controlled; when we offer, ours controls and nominates.
  const agent = new Agent(
    mode === 'lite' ? {} : { mode: 'full', role: mode === 'controlling' ? 'controlling' : 'controlled' },
  );
  const agentEvents: string[] = [];
  const t0 = performance.now();
  const timeline: string[] = [];
  const mark = (what: string) => timeline.push(`${Math.round(performance.now() - t0)}ms ${what}`);
  const dualStack = mode === 'lite';
  const dataIn = { dtls: 0, other: 0 };
  // The agent inside IceTransport, as an application runs it: Chromium's DTLS comes out as data.
  const driver = await bindUdp(new IceTransport(agent), {
    address: dualStack ? '::' : '127.0.0.1',
    onEvent: (e) => {
      if (e.type !== 'machine') return;
      if (e.event.type === 'data') {
        const first = e.event.payload[0]!;
        if (first >= 20 && first <= 63) dataIn.dtls++;
        else dataIn.other++;
        return;
      }
      agentEvents.push(describe(e.event));
      mark(describe(e.event));
    },
  });
  const page = await browser.newPage();
  try {
    const { port } = driver.localAddress!;
    agent.addLocalCandidate({ address: '127.0.0.1', port, family: 'IPv4' });
    if (dualStack) agent.addLocalCandidate({ address: '::1', port, family: 'IPv6' });
    // A real origin (about:blank gathers nothing), served without a server.
    await page.route('http://localhost/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>natkit</title>' }),
    );
    await page.goto('http://localhost/');
    const reached =
      mode === 'controlling'
        ? await weOffer(page, agent, driver)
        : await chromiumOffers(page, agent, driver, mode === 'mdns');
    // Chromium reports connected on its first successful check; the nominating check
    // (USE-CANDIDATE, Chromium's or ours) may complete a moment later (seconds on a loaded
    // machine). Up to 20 s for our agent to select, and for Chromium to see the pair nominated.
    // Its DTLS ClientHello follows ICE at once (and is retransmitted).
    let browserNominated = false;
    for (let i = 0; i < 400 && reached; i++) {
      browserNominated = await page.evaluate(nominatedInChromium);
      if (browserNominated && agent.selectedPair !== undefined && dataIn.dtls > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    mark(`browser connected=${reached}, answered ${agent.stats.checksAnswered}`);
    const browserStates = await page.evaluate(() => (window as unknown as { states: string[] }).states);
    const sel = agent.selectedPair;
    const { checksAnswered, checksSent, errorsSent } = agent.stats;
    const nominator = mode === 'controlling' ? 'we' : 'Chromium';
    return {
      ok: reached && sel !== undefined && browserNominated,
      ...(reached
        ? sel === undefined || !browserNominated
          ? { reason: `${nominator} never nominated a pair both sides agree on` }
          : {}
        : { reason: 'Chromium did not reach connected within 30 s' }),
      browserStates,
      browserNominated,
      agentEvents,
      ...(sel
        ? {
            selected: {
              local: `${sel.local.address.address}:${sel.local.address.port}`,
              remote: `${sel.remote.address.address}:${sel.remote.address.port}`,
            },
          }
        : {}),
      remoteTypes: agent.remoteCandidates.map((c) => c.type),
      dataIn,
      checksAnswered,
      checksSent,
      errorsSent,
      agentState: agent.state,
      timeline,
    };
  } finally {
    await page.close();
    await driver.close();
  }
}

async function main(): Promise<Record<Mode, Outcome>> {
  const browser = await launchChromium();
  try {
    const lite = await scenario(browser, 'lite');
    const full = await scenario(browser, 'full');
    const controlling = await scenario(browser, 'controlling');
    const mdns = await scenario(browser, 'mdns');
    return { lite, full, controlling, mdns };
  } finally {
    await browser.close();
  }
}

reportOutcome(main(), (outcome) => Object.values(outcome).every((o) => o.ok));
