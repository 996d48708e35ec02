/**
 * PGlite is one process's database: a second server on the same data directory would corrupt it.
 * A lock file holding the owner's pid refuses the second start with a clear message; a lock left
 * by a dead process (crash, kill -9) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EhrError, ErrorCode } from '../../src-shared/errors';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock (or throws) and returns its release function. */
export function lockDirectory(dir: string): () => void {
  const file = join(dir, 'server.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new EhrError(ErrorCode.CONFLICT, 'Another server process is using this data directory; stop it first (or use PostgreSQL for several instances).', { pid: owner });
      }
      if (owner === process.pid) {
        throw new EhrError(ErrorCode.CONFLICT, 'This process already serves this data directory.', { pid: owner });
      }
      rmSync(file, { force: true });
    }
  }
  throw new EhrError(ErrorCode.CONFLICT, 'Could not lock the data directory.');
}
