/**
 * The patient's side of a video visit: a page the sync server serves at /visit/<token> (no account,
 * no React). It shows nothing about the patient: no name, no record, only the call.
 *
 * The per-visit media key arrives in the link's #k= fragment, which browsers never send to a
 * server; it is read once and removed from the address bar and history at once. The token (the
 * last path segment) is consumed by the signalling socket's upgrade: the link works once.
 */
import { SignalMessageSchema, type SignalMessage } from '../../src-shared/sync/visits';
import { importMediaKey } from '../visit/frame-crypto';
import { toRtcIceServers, VisitPeer, type PeerSignal } from '../visit/peer';

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

const status = el<HTMLParagraphElement>('status');
const local = el<HTMLVideoElement>('local');
const remote = el<HTMLVideoElement>('remote');
const before = el<HTMLElement>('before');
const join = el<HTMLButtonElement>('join');
const leave = el<HTMLButtonElement>('leave');
const yes = el<HTMLButtonElement>('consent-yes');
const no = el<HTMLButtonElement>('consent-no');

function say(text: string): void {
  status.textContent = text;
}

/** Read the key from the fragment and take it out of the URL (and so out of history) right away. */
function takeKey(): string | null {
  const k = new URLSearchParams(location.hash.slice(1)).get('k');
  history.replaceState(null, '', location.pathname + location.search);
  return k;
}

const token = location.pathname.split('/').filter(Boolean).pop() ?? '';
const keyText = takeKey();

let socket: WebSocket | null = null;
let peer: VisitPeer | null = null;
let stream: MediaStream | null = null;
let key: CryptoKey | null = null;
let iceServers: RTCIceServer[] = [];
let consent: boolean | null = null;
let over = false;

function send(m: SignalMessage): void {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
}

function newPeer(): VisitPeer {
  peer?.close();
  peer = new VisitPeer({
    role: 'patient',
    key: key!,
    iceServers,
    localStream: stream!,
    send: (m: PeerSignal) => send(m),
    onRemoteTrack: (s) => {
      remote.srcObject = s;
      remote.hidden = false;
      void remote.play().catch(() => undefined);
    },
    onStateChange: (state) => {
      if (state === 'connected') say('Connected. The call is encrypted end to end.');
      else if (state === 'failed') say('The connection failed. Ask your clinic for a new link.');
    },
  });
  return peer;
}

function end(text: string): void {
  if (over) return;
  over = true;
  peer?.close();
  peer = null;
  for (const t of stream?.getTracks() ?? []) t.stop();
  remote.srcObject = null;
  remote.hidden = true;
  local.srcObject = null;
  before.hidden = true;
  leave.hidden = true;
  say(text);
  socket?.close(1000);
}

async function onMessage(m: SignalMessage): Promise<void> {
  switch (m.type) {
    case 'welcome':
      iceServers = toRtcIceServers(m.iceServers);
      say('Waiting for your clinician…');
      return;
    case 'offer':
      // A fresh offer after the clinician left and came back belongs to a new connection.
      if (!peer || peer.pc.remoteDescription) newPeer();
      await peer!.receive(m);
      return;
    case 'answer':
    case 'ice':
      await peer?.receive(m);
      return;
    case 'peer':
      if (!m.present) {
        peer?.close();
        peer = null;
        remote.hidden = true;
        say('Your clinician is not connected. Please wait…');
      }
      return;
    case 'bye':
    case 'ended':
      end('The visit has ended. You can close this page.');
      return;
    case 'consent':
      return;
  }
}

function connect(): void {
  before.hidden = true;
  leave.hidden = false;
  say('Connecting…');
  socket = new WebSocket(`wss://${location.host}/visit/${encodeURIComponent(token)}/signal`);
  socket.onopen = () => {
    if (consent !== null) send({ type: 'consent', recording: consent });
  };
  socket.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    let parsed: unknown;
    try { parsed = JSON.parse(e.data); } catch { return; }
    const m = SignalMessageSchema.safeParse(parsed);
    if (m.success) void onMessage(m.data).catch(() => say('The connection failed. Ask your clinic for a new link.'));
  };
  socket.onclose = () => {
    if (!over) end('The visit has ended, or this link was already used. Ask your clinic for a new link if you need one.');
  };
}

function answer(v: boolean): void {
  consent = v;
  yes.setAttribute('aria-pressed', String(v));
  no.setAttribute('aria-pressed', String(!v));
  send({ type: 'consent', recording: v });
}

async function start(): Promise<void> {
  if (!keyText || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
    say('This link is incomplete. Please open the whole link your clinic sent you.');
    return;
  }
  try {
    key = await importMediaKey(keyText);
  } catch {
    say('This link is incomplete. Please open the whole link your clinic sent you.');
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  } catch {
    say('Your camera or microphone could not be opened. Allow them for this page and reload it.');
    return;
  }
  local.srcObject = stream;
  void local.play().catch(() => undefined);
  before.hidden = false;
  say('Check your picture and sound, then join.');
  join.focus();
}

yes.addEventListener('click', () => answer(true));
no.addEventListener('click', () => answer(false));
join.addEventListener('click', () => connect());
leave.addEventListener('click', () => {
  send({ type: 'bye' });
  end('You left the visit. You can close this page.');
});
void start();
