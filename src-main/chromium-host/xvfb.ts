/**
 * A private X display for Chromium where there is none (a server, CI, `npm start -- --check`):
 * Xvfb picks a free display number itself (-displayfd) and listens on no TCP port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { HostError } from './host-error';

export interface VirtualDisplay {
  /** The DISPLAY value, e.g. ":99". */
  display: string;
  stop(): Promise<void>;
}

/** True when a graphical session is there to show a window in. */
export function hasDisplay(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

export async function startXvfb(timeoutMs = 15_000): Promise<VirtualDisplay> {
  const child: ChildProcess = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl+C must not take the display away before the host has closed.
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const display = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new HostError('Xvfb did not start within 15 s.')), timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new HostError(e.code === 'ENOENT' ? 'no display and no Xvfb: run `npm run setup` (it installs xvfb) or start from a desktop session.' : `Xvfb could not start (${e.code ?? 'error'}).`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new HostError(`Xvfb exited at start (code ${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
    });
    (child.stdio[3] as NodeJS.ReadableStream).once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(`:${d.toString().trim()}`);
    });
  });
  child.removeAllListeners('exit');
  return {
    display,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
