// The page `GET /` serves: connect RTCPeerConnections to the server's one UDP port (WHIP-style
// POST /ice), show each one's ICE state and selected pair, and the server's live session list.
// `window.natkit.connect(n)` is what the headless-browser test drives.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>natkit — one UDP socket</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
  button { font: inherit; padding: .3em .8em; margin-right: .5em; }
  table { border-collapse: collapse; margin: 1em 0; }
  td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: left; font-family: ui-monospace, monospace; font-size: 13px; }
  .connected, .completed { color: #080; font-weight: bold; }
  .failed, .closed { color: #b00; }
  #counters { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre; color: #555; }
</style>
</head>
<body>
<h1>natkit: every ICE session behind one UDP socket</h1>
<p>Each button press creates an <code>RTCPeerConnection</code>, posts its SDP offer to <code>POST /ice</code>
and applies the ICE-lite answer. The server runs a STUN server, STUN clients and all ICE agents behind
one UDP port, multiplexed by the first byte, the transaction ID and the ufrag.</p>
<p><button id="one">Connect</button><button id="ten">Connect ×10</button><button id="closeall">Close all</button></p>
<h2>This page's peer connections</h2>
<table id="pcs"><thead><tr><th>#</th><th>session</th><th>ICE state</th><th>selected pair (local ⇄ remote)</th><th></th></tr></thead><tbody></tbody></table>
<h2>Server sessions (<code>GET /stats</code>)</h2>
<table id="sessions"><thead><tr><th>session</th><th>state</th><th>selected pair</th><th>checks answered</th><th>age</th></tr></thead><tbody></tbody></table>
<div id="counters"></div>
<script>
const conns = [];
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

async function selectedPair(pc) {
  const stats = await pc.getStats();
  let pair;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) stats.forEach((r) => { if (!pair && r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
  if (!pair) return '';
  const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
  const a = (c) => c ? (c.address ?? c.ip) + ':' + c.port + ' ' + c.candidateType : '?';
  return a(l) + ' ⇄ ' + a(r);
}

async function connect() {
  const c = { n: conns.length + 1, pc: new RTCPeerConnection(), state: 'new', location: '', pair: '', error: '' };
  conns.push(c);
  c.pc.oniceconnectionstatechange = () => { c.state = c.pc.iceConnectionState; render(); };
  c.pc.createDataChannel('natkit');
  try {
    await c.pc.setLocalDescription(await c.pc.createOffer());
    await new Promise((resolve) => {
      if (c.pc.iceGatheringState === 'complete') return resolve();
      c.pc.onicegatheringstatechange = () => c.pc.iceGatheringState === 'complete' && resolve();
      setTimeout(resolve, 2000);
    });
    const res = await fetch('/ice', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: c.pc.localDescription.sdp });
    if (res.status !== 201) throw new Error(res.status + ' ' + (await res.text()));
    c.location = res.headers.get('Location') ?? '';
    await c.pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } catch (e) {
    c.error = String(e && e.message || e);
    c.state = 'error';
  }
  render();
  return c;
}

async function close(c) {
  c.pc.close();
  c.state = 'closed';
  if (c.location) await fetch(c.location, { method: 'DELETE' });
  render();
}

function render() {
  $('#pcs tbody').innerHTML = conns.map((c) =>
    '<tr><td>' + c.n + '</td><td>' + esc(c.location.split('/').pop()) + '</td><td class="' + esc(c.state) + '">' + esc(c.state) +
    (c.error ? ' — ' + esc(c.error) : '') + '</td><td>' + esc(c.pair) + '</td><td>' +
    (c.state !== 'closed' ? '<button data-n="' + c.n + '">close</button>' : '') + '</td></tr>').join('');
}

$('#pcs').addEventListener('click', (e) => {
  const n = e.target.dataset && e.target.dataset.n;
  if (n) close(conns[Number(n) - 1]);
});
$('#one').onclick = () => connect();
$('#ten').onclick = () => { for (let i = 0; i < 10; i++) connect(); };
$('#closeall').onclick = () => conns.filter((c) => c.state !== 'closed').forEach(close);

async function poll() {
  for (const c of conns) if (c.state === 'connected' || c.state === 'completed') c.pair = await selectedPair(c.pc);
  render();
  try {
    const s = await (await fetch('/stats')).json();
    $('#sessions tbody').innerHTML = s.sessions.map((x) =>
      '<tr><td>' + esc(x.id) + '</td><td class="' + esc(x.state) + '">' + esc(x.state) + '</td><td>' +
      esc(x.selected ? x.selected.local + ' ⇄ ' + x.selected.remote : '') + '</td><td>' + x.checksAnswered +
      '</td><td>' + (x.ageMs / 1000).toFixed(0) + ' s</td></tr>').join('');
    $('#counters').textContent = 'socket ' + s.socket + (s.publicAddress ? ' (public ' + s.publicAddress + ')' : '') +
      '\\nrouted ' + JSON.stringify(s.mux.routed) + '\\ndropped ' + JSON.stringify(s.mux.dropped);
  } catch {}
}
setInterval(poll, 1000);
poll();

window.natkit = {
  conns,
  connect: (n = 1) => Promise.all(Array.from({ length: n }, () => connect())),
  states: () => conns.map((c) => c.state),
  close,
};
</script>
</body>
</html>
`;
