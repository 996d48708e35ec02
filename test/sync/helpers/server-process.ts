/**
 * The sync server in its own process (for the benchmark: the server gets its own core, as in
 * production). argv: <dataDir> [databaseUrl]. Prints one JSON line { url, fingerprint } when
 * listening; exits on SIGTERM. BENCH_SYNC_CPU_PROF=<dir>: writes a V8 CPU profile of the time it
 * served (server.cpuprofile) on SIGTERM.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { startServer } from '../../../src-server/index';

const [dataDir, databaseUrl] = process.argv.slice(2);
const server = await startServer({
  dataDir: dataDir!, port: 0, seed: 'none',
  ...(databaseUrl ? { databaseUrl } : {}),
  // The access-rate monitor at its production defaults: the benchmark measures what a clinic runs.
});
const profDir = process.env.BENCH_SYNC_CPU_PROF;
const session = profDir ? new Session() : null;
const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session!.post(method, (e, r) => (e ? reject(e) : resolve(r))));
if (session) {
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.start');
}
process.stdout.write(`${JSON.stringify({ url: server.url, fingerprint: server.fingerprint })}\n`);
process.on('SIGTERM', () => {
  void (async () => {
    if (session) writeFileSync(join(profDir!, 'server.cpuprofile'), JSON.stringify(((await post('Profiler.stop')) as { profile: unknown }).profile));
    await server.close();
    process.exit(0);
  })();
});
