/**
 * The signalling hub: at most one host socket (the physician's workstation) and one patient socket
 * per visit. It relays offer / answer / ICE / consent / bye unchanged after checking the schema,
 * size and rate, tells each side when the other is present, and stores nothing. Media never passes
 * here (peer to peer, or through TURN).
 *
 * The hub is per server instance: behind a load balancer, a visit's two sockets must reach the same
 * instance (sticky routing on the visit id) or the hub must relay through PostgreSQL LISTEN/NOTIFY.
 */
import { PEER_SIGNAL_TYPES, SignalMessageSchema, VISIT_LIMITS, type IceServer, type SignalMessage } from '../../src-shared/sync';
import type { LogLine } from '../http/log';

export type Side = 'host' | 'patient';
export type EndReason = Extract<SignalMessage, { type: 'ended' }>['reason'];

/** What the hub needs of a socket (the `ws` WebSocket satisfies it). */
export interface SignalSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

interface Room {
  host?: SignalSocket;
  patient?: SignalSocket;
}

const CLOSE_TOO_BIG = 1009;
const CLOSE_POLICY = 1008;

export class SignallingHub {
  private readonly rooms = new Map<string, Room>();
  constructor(private readonly log: (line: LogLine) => void, private readonly now: () => number = Date.now) {}

  /** Attaches a socket; a second socket for the same side replaces (and closes) the first. */
  attach(visitId: string, side: Side, socket: SignalSocket, welcome?: { iceServers: IceServer[] }): void {
    const room = this.rooms.get(visitId) ?? {};
    this.rooms.set(visitId, room);
    room[side]?.close(CLOSE_POLICY, 'replaced');
    room[side] = socket;
    const window = { start: this.now(), count: 0 };
    socket.on('message', (data, isBinary) => this.onMessage(visitId, side, socket, data, isBinary, window));
    socket.on('close', () => this.detach(visitId, side, socket));
    if (welcome) send(socket, { type: 'welcome', iceServers: welcome.iceServers });
    const other = room[side === 'host' ? 'patient' : 'host'];
    if (other) {
      send(other, { type: 'peer', present: true });
      send(socket, { type: 'peer', present: true });
    }
    this.log({ level: 'info', event: 'visit-signal-join', visitId, side });
  }

  /** Ends the visit for both sides: an `ended` message, then the sockets close. */
  end(visitId: string, reason: EndReason): void {
    const room = this.rooms.get(visitId);
    if (!room) return;
    this.rooms.delete(visitId);
    for (const s of [room.host, room.patient]) {
      if (!s) continue;
      send(s, { type: 'ended', reason });
      s.close(1000, 'visit ended');
    }
  }

  private detach(visitId: string, side: Side, socket: SignalSocket): void {
    const room = this.rooms.get(visitId);
    if (!room || room[side] !== socket) return;
    delete room[side];
    const other = room[side === 'host' ? 'patient' : 'host'];
    if (other) send(other, { type: 'peer', present: false });
    else this.rooms.delete(visitId);
  }

  private onMessage(visitId: string, side: Side, socket: SignalSocket, data: unknown, isBinary: boolean, window: { start: number; count: number }): void {
    const text = isBinary ? null : toText(data);
    if (text === null || Buffer.byteLength(text) > VISIT_LIMITS.signalBytes) {
      socket.close(CLOSE_TOO_BIG, 'message too large');
      return;
    }
    const t = this.now();
    if (t - window.start > 10_000) Object.assign(window, { start: t, count: 0 });
    if (++window.count > VISIT_LIMITS.signalsPer10s) {
      socket.close(CLOSE_POLICY, 'too many messages');
      return;
    }
    let parsed: SignalMessage;
    try {
      const r = SignalMessageSchema.safeParse(JSON.parse(text));
      if (!r.success || !(PEER_SIGNAL_TYPES as readonly string[]).includes(r.data.type)) throw new Error('invalid');
      parsed = r.data;
    } catch {
      // Ids only in the log: never the SDP or the text that failed.
      this.log({ level: 'warn', event: 'visit-signal-refused', visitId, side });
      socket.close(CLOSE_POLICY, 'invalid message');
      return;
    }
    const other = this.rooms.get(visitId)?.[side === 'host' ? 'patient' : 'host'];
    if (other) send(other, parsed);
  }
}

function send(socket: SignalSocket, message: SignalMessage): void {
  try {
    socket.send(JSON.stringify(message));
  } catch {
    // A socket closing under us: its close handler detaches it.
  }
}

function toText(data: unknown): string | null {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data) && data.every((d) => Buffer.isBuffer(d))) return Buffer.concat(data as Buffer[]).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return null;
}
