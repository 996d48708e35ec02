/**
 * The sync server in its own process (for the benchmark: the server gets its own core, as in
 * production). argv: <dataDir> [databaseUrl]. Prints one JSON line { url, fingerprint } when
 * listening; exits on SIGTERM.
 */
import { startServer } from '../../../src-server/index';

const [dataDir, databaseUrl] = process.argv.slice(2);
const server = await startServer({
  dataDir: dataDir!, port: 0, seed: 'none',
  ...(databaseUrl ? { databaseUrl } : {}),
  config: { rateMonitor: { factor: 3, trailingHours: 168, minAccesses: 1_000_000 } },
});
process.stdout.write(`${JSON.stringify({ url: server.url, fingerprint: server.fingerprint })}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
