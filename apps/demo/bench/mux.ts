/**
 * What the Mux itself costs per datagram, in process (no socket): a Binding request through
 * the Mux to its StunServer vs the same StunServer called directly; a response routed back by
 * transaction ID among 10 000 outstanding ones; an RTP datagram handed to the application;
 * a datagram dropped by its first byte.
 *
 * Run: pnpm --filter @natkit/demo bench
 */
import type { Machine, SocketAddress, Transmit } from '@natkit/sans-io';
import { StunServer } from '@natkit/stun-agent';
import { MessageBuilder, MessageClass, Method } from '@natkit/stun-codec';
import { bench, do_not_optimize, run, summary } from 'mitata';
import { Mux } from '../src/mux.ts';

const FROM: SocketAddress = { address: '192.0.2.7', port: 40000, family: 'IPv4' };
const request = new MessageBuilder()
  .reset(Method.Binding, MessageClass.Request, new Uint8Array(12).fill(3))
  .addFingerprint()
  .build();

const bare = new StunServer();
const mux = new Mux({ onData: (_s, p) => do_not_optimize(p) });
mux.add(new StunServer(), { role: 'stun-server' });

// A client with 10 000 requests out (their IDs learnt by the Mux as they left).
class Sender implements Machine<never> {
  out: Transmit[] = [];
  handleInput(): void {}
  pollTransmit = (): Transmit | undefined => this.out.pop();
  pollTimeout = (): undefined => undefined;
  handleTimeout(): void {}
  pollEvent = (): undefined => undefined;
}
const sender = mux.add(new Sender(), { role: 'client' });
const responses: Uint8Array[] = [];
mux.update(sender, (m) => {
  const b = new MessageBuilder();
  for (let i = 0; i < 10_000; i++) {
    const id = crypto.getRandomValues(new Uint8Array(12));
    m.out.push({ destination: FROM, payload: b.reset(Method.Binding, MessageClass.Request, id).build() });
    responses.push(b.reset(Method.Binding, MessageClass.Success, id).build());
  }
});
while (mux.pollTransmit() !== undefined);
mux.bindSession('s', FROM);
const rtp = new Uint8Array(172);
rtp[0] = 0x80;
const junk = Uint8Array.of(0xff, 1, 2, 3);

let i = 0;
summary(() => {
  bench('Binding request → StunServer directly', () => {
    bare.handleInput(request, FROM, 1);
    do_not_optimize(bare.pollTransmit());
    bare.pollTransmit();
  });
  bench('Binding request → Mux → StunServer (+ pollTransmit/pollEvent/pollTimeout)', () => {
    mux.handleInput(request, FROM, 1);
    do_not_optimize(mux.pollTransmit());
    mux.pollTransmit();
    mux.pollEvent();
    mux.pollTimeout();
  });
});
bench('response routed by transaction ID (10 000 outstanding)', () => {
  do_not_optimize(mux.handleInput(responses[i++ % 10_000]!, FROM, 1));
});
bench('RTP datagram → application (onData)', () => {
  do_not_optimize(mux.handleInput(rtp, FROM, 1));
});
bench('unknown first byte → dropped', () => {
  do_not_optimize(mux.handleInput(junk, FROM, 1));
});

await run();
