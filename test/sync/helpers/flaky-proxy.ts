/**
 * A TCP proxy in front of the server that can cut connections: TLS still runs end to end between
 * the client and the real server (the pin is checked through it), the proxy only moves bytes.
 * Cuts are keyed on how much the client has uploaded on a connection, so a large push is the
 * request that gets cut (logins, /me and pull requests are a few hundred bytes).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface FlakyProxy {
  url: string;
  /** Cut the next connection mid-upload, once the client has sent more than `bytes` on it. */
  cutDuringUpload(bytes: number): void;
  /** Let the next upload over `bytes` reach the server, then cut before its answer reaches the client. */
  cutAnswerAfterUpload(bytes: number): void;
  /** Reset every new connection while true. */
  down: boolean;
  cuts: number;
  close(): Promise<void>;
}

export async function startFlakyProxy(target: { port: number }): Promise<FlakyProxy> {
  let uploadCut: number | null = null;
  let answerCut: number | null = null;
  const sockets = new Set<net.Socket>();
  const proxy: FlakyProxy = {
    url: '',
    down: false,
    cuts: 0,
    cutDuringUpload(bytes) { uploadCut = bytes; },
    cutAnswerAfterUpload(bytes) { answerCut = bytes; },
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
  const server = net.createServer((client) => {
    sockets.add(client);
    if (proxy.down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, '127.0.0.1');
    sockets.add(upstream);
    let uploaded = 0;
    let armedAnswerCut = false;
    const cut = (): void => {
      proxy.cuts++;
      client.resetAndDestroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      uploaded += chunk.length;
      if (uploadCut !== null && uploaded > uploadCut) {
        uploadCut = null;
        cut();
        return;
      }
      if (answerCut !== null && uploaded > answerCut) {
        answerCut = null;
        armedAnswerCut = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (armedAnswerCut) {
        cut();
        return;
      }
      client.write(chunk);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => { upstream.end(); sockets.delete(client); });
    upstream.on('close', () => { client.end(); sockets.delete(upstream); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
