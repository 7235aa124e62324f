/**
 * Real-browser interop: headless Chromium's RTCPeerConnection against our agents, over
 * 127.0.0.1 — first a lite agent (the SFU case), then a full agent in the controlled role.
 *
 * Run inside a private network namespace with only loopback (the vitest suite does this):
 *   unshare -n sh -c 'ip link set lo up && exec node --conditions=source --import tsx <this file>'
 * Prints one JSON line `{ lite: Outcome, full: Outcome }` on stdout. Chromium never leaves the
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
  /** What happened when, for diagnosing a failure. */
  timeline?: string[];
}

/** A minimal data-channel answer: just enough SDP for Chromium to run ICE against us. */
function answerSdp(offer: string, agent: IceAgent): string {
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? '0';
  const c = agent.localCandidates[0]!;
  // Any syntactically valid fingerprint: DTLS will fail after ICE (we do not do DTLS).
  const fingerprint = Array.from({ length: 32 }, (_, i) => ((i * 37) & 0xff).toString(16).padStart(2, '0'))
    .join(':')
    .toUpperCase();
  const ice = formatIceLines({ ...agent.localCredentials, candidates: [c], endOfCandidates: true });
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
    'a=setup:passive',
    'a=sctp-port:5000',
  ].join('\r\n')}\r\n`;
}

const describe = (e: IceEvent): string =>
  e.type === 'state'
    ? `state:${e.state}`
    : e.type === 'selected-pair'
      ? `selected:${e.local.address.address}:${e.local.address.port}->${e.remote.address.address}:${e.remote.address.port}`
      : e.type;

async function scenario(browser: Browser, mode: 'lite' | 'full'): Promise<Outcome> {
  // Against Chromium (the offerer, controlling) a full agent is controlled (RFC 8445 §6.1.1).
  const agent = new Agent(mode === 'lite' ? {} : { mode: 'full', role: 'controlled' });
  const agentEvents: string[] = [];
  const t0 = performance.now();
  const timeline: string[] = [];
  const mark = (what: string) => timeline.push(`${Math.round(performance.now() - t0)}ms ${what}`);
  const driver = await bindUdp(agent, {
    address: '127.0.0.1',
    onEvent: (e) => {
      if (e.type === 'machine') {
        agentEvents.push(describe(e.event as IceEvent));
        mark(describe(e.event as IceEvent));
      }
    },
  });
  const page = await browser.newPage();
  try {
    agent.addLocalCandidate(driver.localAddress!);
    // A real origin (about:blank gathers nothing), served without a server.
    await page.route('http://localhost/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>natkit</title>' }),
    );
    await page.goto('http://localhost/');
    const offer = await page.evaluate(async () => {
      const w = window as unknown as { pc: RTCPeerConnection; states: string[] };
      const pc = new RTCPeerConnection();
      w.pc = pc;
      w.states = [];
      pc.oniceconnectionstatechange = () => w.states.push(pc.iceConnectionState);
      pc.createDataChannel('natkit');
      await pc.setLocalDescription(await pc.createOffer());
      // Wait for gathering so the offer lists Chromium's loopback candidate (non-trickle).
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 3000);
      });
      return pc.localDescription!.sdp;
    });

    const remote = parseIceDescription(offer);
    if (remote.ufrag === undefined || remote.pwd === undefined) {
      throw new Error('offer without ICE credentials');
    }
    driver.update((a) => {
      a.setRemoteCredentials({ ufrag: remote.ufrag!, pwd: remote.pwd! });
      for (const c of remote.candidates) a.addRemoteCandidate(c);
      a.endOfRemoteCandidates();
    });

    const reached = await page.evaluate(
      async (sdp) => {
        const w = window as unknown as { pc: RTCPeerConnection; states: string[] };
        await w.pc.setRemoteDescription({ type: 'answer', sdp });
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          const s = w.pc.iceConnectionState;
          if (s === 'connected' || s === 'completed') return true;
          if (s === 'failed') return false;
          await new Promise((r) => setTimeout(r, 50));
        }
        return false;
      },
      answerSdp(offer, agent),
    );
    // Chromium reports connected on its first successful check; its nominating check
    // (USE-CANDIDATE) may arrive a moment later (seconds on a loaded machine). Up to 20 s.
    for (let i = 0; i < 400 && reached && agent.selectedPair === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    mark(`browser connected=${reached}, answered ${agent.stats.checksAnswered}`);
    const browserStates = await page.evaluate(() => (window as unknown as { states: string[] }).states);
    const sel = agent.selectedPair;
    const { checksAnswered, checksSent, errorsSent } = agent.stats;
    return {
      ok: reached && sel !== undefined,
      ...(reached
        ? sel === undefined
          ? { reason: 'Chromium connected but never nominated a pair' }
          : {}
        : { reason: 'Chromium did not reach connected within 30 s' }),
      browserStates,
      agentEvents,
      ...(sel
        ? {
            selected: {
              local: `${sel.local.address.address}:${sel.local.address.port}`,
              remote: `${sel.remote.address.address}:${sel.remote.address.port}`,
            },
          }
        : {}),
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

async function main(): Promise<{ lite: Outcome; full: Outcome }> {
  const browser = await launchChromium();
  try {
    const lite = await scenario(browser, 'lite');
    const full = await scenario(browser, 'full');
    return { lite, full };
  } finally {
    await browser.close();
  }
}

reportOutcome(main(), (outcome) => outcome.lite.ok && outcome.full.ok);
