/**
 * Our STUN server for `real-nat.test.ts` on the "internet" host: one {@link StunServer} per
 * address given (`stun-server.ts <ip:port>...`), each on its own io-node socket. Two of them tell
 * a NAT that maps per destination (a different external port for each) from one that does not.
 * Prints `{"type":"ready"}` once every socket is bound; runs until stdin closes.
 */
import { bindUdp } from '@natkit/io-node';
import { StunServer } from '@natkit/stun-agent';

const drivers = await Promise.all(
  process.argv.slice(2).map((where) => {
    const [address, port] = where.split(':');
    return bindUdp(new StunServer(), { address: address!, port: Number(port) });
  }),
);
process.stdout.write(`${JSON.stringify({ type: 'ready' })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void Promise.all(drivers.map((d) => d.close())));
