/**
 * `npm run server` — configuration from environment (or --flags of the same name in kebab case):
 *   DATA_DIR      default ./.data/server (PGlite database, generated TLS, KEK unless KEK_DIR)
 *   DATABASE_URL  PostgreSQL instead of PGlite
 *   PORT          default 8443;  HOST default 127.0.0.1 (0.0.0.0 to serve the network)
 *   TLS_CERT, TLS_KEY   production certificate and key (PEM); otherwise a local CA is generated
 *   KEK_DIR       directory of the key-encryption key file (default <DATA_DIR>/kek)
 *   SEED          demo | none (default: demo — seeds only an empty database)
 *   --rotate-kek  rotate the key-encryption key (re-wrap every data key), print the report, exit
 * Prints the URL and the certificate's SHA-256 fingerprint (what workstations pin).
 */
import { resolve } from 'node:path';
import { startServer } from './index';
import { stdoutLog } from './http/log';

function setting(name: string): string | undefined {
  const flag = `--${name.toLowerCase().replace(/_/g, '-')}`;
  const i = process.argv.indexOf(flag);
  if (i >= 0) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(`${flag}=`));
  return inline ? inline.slice(flag.length + 1) : process.env[name];
}

const dataDir = resolve(setting('DATA_DIR') ?? './.data/server');
const cert = setting('TLS_CERT');
const key = setting('TLS_KEY');
if (Boolean(cert) !== Boolean(key)) {
  console.error('server: set both TLS_CERT and TLS_KEY, or neither (a local certificate is then generated).');
  process.exit(2);
}
const rotateOnly = process.argv.includes('--rotate-kek');
const server = await startServer({
  dataDir,
  databaseUrl: setting('DATABASE_URL'),
  // A rotation run serves nobody: any free loopback port, closed right after.
  port: rotateOnly ? 0 : Number(setting('PORT') ?? 8443),
  host: rotateOnly ? '127.0.0.1' : (setting('HOST') ?? '127.0.0.1'),
  tls: cert && key ? { certPath: resolve(cert), keyPath: resolve(key) } : undefined,
  kekDir: setting('KEK_DIR') ? resolve(setting('KEK_DIR')!) : undefined,
  seed: setting('SEED') === 'none' || rotateOnly ? 'none' : 'demo',
  log: stdoutLog,
});
if (rotateOnly) {
  const report = await server.rotateKek();
  console.log(`KEK rotated to ${report.newKekId}: ${report.dataKeys} data keys and ${report.secrets} server secrets re-wrapped; retired ${report.oldKekIds.join(', ') || 'none'}.`);
  await server.close();
  process.exit(0);
}
console.log(`Clinic EHR sync server listening on ${server.url}`);
console.log(`Certificate SHA-256 fingerprint (pin this in the IT policy): ${server.fingerprint}`);
if (server.seeded) {
  console.log(`Demo organisation seeded: ${server.seeded.patients} patients, ${server.seeded.records} records (demo users: see docs/server.md).`);
}
if (setting('SEED') !== 'none') console.log(`One-time device enrollment code: ${await server.issueEnrollmentCode()}`);
const stop = async (): Promise<void> => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
