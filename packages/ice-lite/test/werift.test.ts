import { bindUdp, type DriverEvent, type UdpDriver } from '@natkit/io-node';
import { describe, expect, it } from 'vitest';
import type { Connection } from 'werift-ice';
import { type Candidate, IceAgent, type IceAgentOptions, type IceState } from '../src/index.ts';
import {
  type AppEvent,
  AppSocket,
  type DataEvent,
  eventually,
  fromWerift,
  quiet,
  toWerift,
  v4,
  weriftAgent,
  weriftData,
  within,
} from './werift-peer.ts';

/**
 * Interop with werift-ice 0.2.3, an independent ICE implementation (a TypeScript port of
 * aioice), over real UDP on 127.0.0.1: our agent runs under io-node's driver, werift on its own
 * sockets. Credentials and candidates go through each side's API and SDP code, as signalling
 * would carry them.
 *
 * werift behaviours the assertions account for (none breaks interop):
 * - As a controlling full agent facing a full peer it nominates aggressively (USE-CANDIDATE on
 *   every check), which RFC 8445 §8.1.1 no longer defines; facing a lite peer it nominates
 *   regularly (a check, then the same check with USE-CANDIDATE) and then keeps USE-CANDIDATE on
 *   its consent requests, like libwebrtc.
 * - `gatherCandidates()` sets its state to `completed` when gathering ends, before any check;
 *   `connect()` resolving (state `connected`) is what says ICE succeeded.
 * - It answers Binding requests without verifying their MESSAGE-INTEGRITY (RFC 8445 §7.3 and
 *   RFC 8489 §9.1.3 require the check); harmless here, where every request is authentic.
 */

const WAIT = 8_000;
/** One consent interval is 4–6 s on either side, plus slack for a busy machine. */
const CONSENT_WAIT = 10_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

type Event = DriverEvent<AppEvent>;
const isState =
  (...states: IceState[]) =>
  (e: Event): e is Event & { type: 'machine'; event: { type: 'state'; state: IceState } } =>
    e.type === 'machine' && e.event.type === 'state' && states.includes(e.event.state);
const isData = (e: Event): e is Event & { type: 'machine'; event: DataEvent } =>
  e.type === 'machine' && e.event.type === 'data';

interface Session {
  agent: IceAgent;
  app: AppSocket;
  driver: UdpDriver<AppSocket>;
  werift: Connection;
  /** Our host candidate, as werift got it (our SDP line through werift's parser). */
  ours: Candidate;
  /** werift's host candidate, as we got it (werift's SDP line through our parser). */
  theirs: Candidate;
  /** `werift.connect()`: resolves when werift has a nominated pair, rejects if ICE failed. */
  connecting: Promise<void>;
  /** Our agent reaching `up` (or `failed`). */
  ourUp: Promise<IceState>;
  /** Every event our side emitted, for failure messages. */
  events: string[];
}

/**
 * Binds our agent to 127.0.0.1 under io-node, has werift gather on 127.0.0.1, exchanges
 * credentials, candidates and end-of-candidates both ways, starts both, runs `body`, and closes
 * everything whatever happens.
 */
async function session(
  setup: {
    ours: IceAgentOptions;
    weriftControlling: boolean;
    /** The state our agent is expected to reach. */
    up: IceState;
    /** werift's tie-breaker, derived from ours, to force one side of a role conflict. */
    weriftTieBreaker?: (ours: bigint) => bigint;
  },
  body: (s: Session) => Promise<void>,
): Promise<void> {
  const { ours: options, weriftControlling, up, weriftTieBreaker } = setup;
  const agent = new IceAgent(options);
  const app = new AppSocket(agent);
  const events: string[] = [];
  const driver = await bindUdp(app, {
    address: '127.0.0.1',
    onEvent: (e) => {
      if (e.type !== 'machine') events.push(e.type);
      else if (e.event.type === 'state') events.push(`state:${e.event.state}`);
      else events.push(e.event.type);
    },
  });
  const werift = weriftAgent(weriftControlling);
  if (weriftTieBreaker !== undefined) {
    // werift draws its tie-breaker at random and keeps it in a private field; a role conflict
    // test needs to pick the winner, so it is overwritten (test-only; werift has no option).
    Object.defineProperty(werift, 'tieBreaker', { value: weriftTieBreaker(agent.tieBreaker!) });
  }
  try {
    const ourUp = quiet(driver.waitFor(isState(up, 'failed')).then((e) => e.event.state));
    await werift.gatherCandidates();
    expect(werift.localCandidates).toHaveLength(1);
    const theirs = fromWerift(werift.localCandidates[0]!);
    expect(theirs).toMatchObject({ type: 'host', address: v4('127.0.0.1', theirs.address.port) });

    const ours = driver.update((m) => m.agent.addLocalCandidate(driver.localAddress!));
    werift.setRemoteParams({
      iceLite: agent.mode === 'lite',
      usernameFragment: agent.localCredentials.ufrag,
      password: agent.localCredentials.pwd,
    });
    await werift.addRemoteCandidate(toWerift(ours));
    await werift.addRemoteCandidate(undefined); // end-of-candidates
    expect(werift.remoteCandidates).toHaveLength(1);

    driver.update((m) => {
      m.agent.setRemoteCredentials({ ufrag: werift.localUsername, pwd: werift.localPassword });
      expect(m.agent.addRemoteCandidate(theirs)).toBe(true);
      m.agent.endOfRemoteCandidates();
    });
    const connecting = quiet(werift.connect());
    await body({ agent, app, driver, werift, ours, theirs, connecting, ourUp, events });
  } finally {
    await werift.close();
    await driver.close();
  }
}

/** Both sides up: werift's `connect()` resolved, ours reached `up`; werift's nominated pair. */
async function bothUp(s: Session, up: IceState) {
  await within(s.connecting, WAIT, "werift's connect()");
  const state = await within(s.ourUp, WAIT, `our agent's ${up}`);
  expect(state, s.events.join(' ')).toBe(up);
  expect(s.werift.state).toBe('connected');
  const nominated = s.werift.nominated;
  if (nominated === undefined) throw new Error('werift connected without a nominated pair');
  expect(nominated.nominated).toBe(true);
  return nominated;
}

/** The 5-tuple werift nominated is the one our agent selected, seen from either end. */
function sameFiveTuple(s: Session, nominated: NonNullable<Connection['nominated']>): void {
  const pair = s.agent.selectedPair;
  if (pair === undefined) throw new Error(`our agent selected no pair (${s.events.join(' ')})`);
  expect(pair.local.address).toEqual(s.driver.localAddress);
  expect(pair.local.address).toEqual(s.ours.address);
  expect(pair.remote.address).toEqual(s.theirs.address);
  expect(v4(nominated.localCandidate.host, nominated.localCandidate.port)).toEqual(pair.remote.address);
  expect(v4(...nominated.remoteAddr)).toEqual(pair.local.address);
  expect(nominated.localCandidate.transport.toLowerCase()).toBe('udp');
}

/** Application data both ways on the selected pair: werift `send` → us, us → werift `onData`. */
async function dataBothWays(s: Session): Promise<void> {
  const toUs = quiet(s.driver.waitFor(isData));
  await s.werift.send(Buffer.from('werift → natkit'));
  const got = await within(toUs, WAIT, 'werift → natkit data');
  expect(dec.decode(got.event.payload)).toBe('werift → natkit');
  expect(got.event.from).toEqual(s.theirs.address);

  const toWeriftData = weriftData(s.werift);
  s.driver.update((m) => m.send(enc.encode('natkit → werift')));
  expect(dec.decode(await within(toWeriftData, WAIT, 'natkit → werift data'))).toBe('natkit → werift');
  expect(s.werift.nominated?.packetsReceived).toBe(1);
}

describe('werift-ice 0.2.3 against our agent over 127.0.0.1 (real UDP, real time)', () => {
  it('our lite agent, werift full controlling: werift nominates, both use its 5-tuple, data flows both ways', async () => {
    await session({ ours: { mode: 'lite' }, weriftControlling: true, up: 'connected' }, async (s) => {
      const nominated = await bothUp(s, 'connected');
      sameFiveTuple(s, nominated);
      expect(s.agent.state).toBe('connected'); // a lite agent stays `connected`
      expect(s.agent.stats.checksSent).toBe(0); // lite: never a request (RFC 8445 §2.5)
      expect(s.agent.stats.checksAnswered).toBeGreaterThanOrEqual(2); // the check, then the nominating one
      expect(s.agent.stats.errorsSent).toBe(0);
      await dataBothWays(s);
    });
  });

  it('our full agent controlling, werift full controlled: we nominate, werift takes our pair', async () => {
    await session(
      { ours: { mode: 'full', role: 'controlling' }, weriftControlling: false, up: 'completed' },
      async (s) => {
        const nominated = await bothUp(s, 'completed');
        // werift marks the pair nominated because of our USE-CANDIDATE (RFC 8445 §7.3.1.5).
        expect(nominated.remoteNominated).toBe(true);
        expect(s.werift.iceControlling).toBe(false);
        expect(s.agent.role).toBe('controlling');
        sameFiveTuple(s, nominated);
        expect(s.agent.stats.checksSent).toBeGreaterThan(0);
        expect(s.agent.stats.errorsSent).toBe(0);
        await dataBothWays(s);
      },
    );
  });

  it('our full agent controlled, werift full controlling: werift nominates, we select its pair', async () => {
    await session(
      { ours: { mode: 'full', role: 'controlled' }, weriftControlling: true, up: 'completed' },
      async (s) => {
        const nominated = await bothUp(s, 'completed');
        expect(s.werift.iceControlling).toBe(true);
        expect(s.agent.role).toBe('controlled');
        sameFiveTuple(s, nominated);
        expect(s.agent.stats.checksSent).toBeGreaterThan(0); // triggered checks (RFC 8445 §7.3.1.4)
        expect(s.agent.stats.errorsSent).toBe(0);
        await dataBothWays(s);
      },
    );
  });

  // Both sides start in the same role; the larger tie-breaker ends up controlling either way
  // (RFC 8445 §7.3.1.1 for the side receiving the request, §7.2.5.1 for the side getting 487).
  // werift deviation: controlled, receiving ICE-CONTROLLED with a tie-breaker not larger than
  // its own, it switches to controlling but drops the request unanswered (§7.3.1.1 has it switch
  // and go on processing the request, as its controlling branch does); our check is answered
  // only when it is sent again (retransmission, or a triggered check).
  describe('role conflicts', () => {
    it.each([
      { start: 'controlling', winner: 'natkit' },
      { start: 'controlling', winner: 'werift' },
      { start: 'controlled', winner: 'natkit' },
      { start: 'controlled', winner: 'werift' },
    ] as const)(
      'both start $start, $winner has the larger tie-breaker and ends up controlling',
      async ({ start, winner }) => {
        const weWin = winner === 'natkit';
        await session(
          {
            ours: { mode: 'full', role: start },
            weriftControlling: start === 'controlling',
            up: 'completed',
            weriftTieBreaker: (ours) => (weWin ? ours - 1n : ours + 1n),
          },
          async (s) => {
            const nominated = await bothUp(s, 'completed');
            expect(s.agent.role).toBe(weWin ? 'controlling' : 'controlled');
            expect(s.werift.iceControlling).toBe(!weWin);
            // Which side detects the conflict first (a 487, or a request it switches on) depends
            // on whose check lands first; the outcome does not.
            const weSwitched = (start === 'controlling') !== weWin;
            if (weSwitched) expect(s.events).toContain('role');
            else expect(s.events).not.toContain('role');
            sameFiveTuple(s, nominated);
            await dataBothWays(s);
          },
        );
      },
    );
  });

  // Consent freshness (RFC 7675) takes one interval, 4–6 s on both sides, so the two consent
  // scenarios run side by side. One round each way is checked.
  describe.concurrent('consent freshness, one round (RFC 7675 §5.1)', () => {
    it('werift and our full agent answer each other’s consent checks', async () => {
      await session(
        { ours: { mode: 'full', role: 'controlling' }, weriftControlling: false, up: 'completed' },
        async (s) => {
          const nominated = await bothUp(s, 'completed');
          const weriftSent = nominated.consentRequestsSent;
          const weriftAnswered = nominated.responsesReceived;
          const weriftSeen = nominated.requestsReceived;
          const ourAnswered = s.agent.stats.checksAnswered;
          const ourResponses = s.app.count('response');
          const ourChecks = s.agent.stats.checksSent;
          await eventually(
            () =>
              // werift sent a consent request, we answered it, werift took the answer…
              nominated.consentRequestsSent > weriftSent &&
              nominated.responsesReceived > weriftAnswered &&
              s.agent.stats.checksAnswered > ourAnswered &&
              // …and werift answered ours (checks have ended: what we send now is consent).
              nominated.requestsReceived > weriftSeen &&
              s.app.count('response') > ourResponses,
            CONSENT_WAIT,
            'a consent round each way',
          );
          expect(s.agent.stats.checksSent).toBe(ourChecks); // consent checks are not connectivity checks
          expect(s.werift.state).toBe('connected');
          expect(s.werift.nominated).toBe(nominated);
          expect(s.agent.state).toBe('completed');
          sameFiveTuple(s, nominated);
          expect(s.agent.stats.errorsSent).toBe(0);
        },
      );
    }, 20_000);

    it('our lite agent answers werift’s consent checks', async () => {
      await session({ ours: { mode: 'lite' }, weriftControlling: true, up: 'connected' }, async (s) => {
        const nominated = await bothUp(s, 'connected');
        const weriftSent = nominated.consentRequestsSent;
        const weriftAnswered = nominated.responsesReceived;
        const ourAnswered = s.agent.stats.checksAnswered;
        await eventually(
          () =>
            nominated.consentRequestsSent > weriftSent &&
            nominated.responsesReceived > weriftAnswered &&
            s.agent.stats.checksAnswered > ourAnswered,
          CONSENT_WAIT,
          "werift's consent round",
        );
        expect(s.werift.state).toBe('connected');
        expect(s.werift.nominated).toBe(nominated);
        // werift's consent requests carry USE-CANDIDATE for a lite peer: the same pair again,
        // nothing to select anew.
        expect(s.agent.state).toBe('connected');
        expect(s.events.filter((e) => e === 'selected-pair')).toHaveLength(1);
        sameFiveTuple(s, nominated);
        expect(s.agent.stats.errorsSent).toBe(0);
        expect(s.agent.stats.checksSent).toBe(0);
      });
    }, 20_000);
  });
});
