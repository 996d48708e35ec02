/**
 * FHIR import: `npm run import -- <bundle.json> [options]`
 *
 * Imports a FHIR R4 transaction or collection Bundle (e.g. Synthea output) into this
 * workstation's vault and syncs it, through the same vault + envelope + outbox path as any
 * clinical write (src-main/core/sync/fhir-import.ts). Invalid entries are reported by entry index
 * and FHIRPath, never with their values.
 *
 * Options:
 *   --vault <dir>             the workstation vault (or EHR_VAULT_DIR)
 *   --policy <policy.json>    IT policy file giving serverUrl + serverCertFingerprint, or:
 *   --server <https url> --fingerprint <sha256 hex>
 *   --user <username>         (or EHR_IMPORT_USER); the password is read from EHR_IMPORT_PASSWORD only,
 *                             never from the command line (it would show in `ps`)
 *   --enroll-code <code>      enroll this vault's device first (one-time code from an admin)
 *   --keychain-service <name> OS keychain service holding the vault key (default clinic-ehr)
 *   --dry-run                 validate and report only; nothing is written or sent
 *
 * Output: a JSON report on stdout (ids, indexes, paths and counts only). Exit code 0 = all
 * imported and synced, 2 = some entries invalid or not yet synced, 1 = the import failed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePolicy } from '../src-shared/policy';
import { EhrError } from '../src-shared/errors';
import { createKeytarKeyStore } from '../src-main/core/keychain';
import { openVault } from '../src-main/core/vault';
import { createServerClient } from '../src-main/core/sync/server-client';
import { createSyncEngine } from '../src-main/core/sync';
import { importBundle, parseBundle } from '../src-main/core/sync/fhir-import';

const ENROLLED = 'sync.device.enrolledAt';

function fail(message: string): never {
  process.stderr.write(`import: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      vault: { type: 'string' }, policy: { type: 'string' }, server: { type: 'string' }, fingerprint: { type: 'string' },
      user: { type: 'string' }, 'enroll-code': { type: 'string' }, 'keychain-service': { type: 'string' }, 'dry-run': { type: 'boolean' },
    },
  });
  const file = positionals[0] ?? fail('usage: npm run import -- <bundle.json> --vault <dir> --server <url> --fingerprint <hex> --user <name>');
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    fail('the file cannot be read as JSON');
  }
  parseBundle(bundle);

  const vaultDir = values.vault ?? process.env.EHR_VAULT_DIR ?? fail('--vault <dir> (or EHR_VAULT_DIR) is required');
  const vault = await openVault({ dir: vaultDir, keyStore: createKeytarKeyStore(values['keychain-service'] ?? 'clinic-ehr') });
  try {
    const policy = values.policy
      ? parsePolicy(JSON.parse(readFileSync(values.policy, 'utf8')))
      : { serverUrl: values.server ?? '', serverCertFingerprint: values.fingerprint ?? '' };
    const dryRun = values['dry-run'] === true;
    if (dryRun) {
      const report = importBundle(bundle, { vault, keys: noKeys, userId: 'dry-run', dryRun: true });
      process.stdout.write(`${JSON.stringify({ ...report, dryRun: true }, null, 2)}\n`);
      return report.invalid.length ? 2 : 0;
    }
    if (!policy.serverUrl || !policy.serverCertFingerprint) fail('--policy, or --server and --fingerprint, are required');
    const client = createServerClient({ serverUrl: policy.serverUrl, fingerprint: policy.serverCertFingerprint, deviceId: vault.device.deviceId });
    try {
      if (values['enroll-code']) {
        await client.enroll({ code: values['enroll-code'], publicKey: vault.device.publicKeyRaw, name: 'FHIR import' });
        vault.kv.set(ENROLLED, new Date().toISOString());
      }
      const username = values.user ?? process.env.EHR_IMPORT_USER ?? fail('--user (or EHR_IMPORT_USER) is required');
      const password = process.env.EHR_IMPORT_PASSWORD ?? fail('EHR_IMPORT_PASSWORD is required (never pass a password as an argument)');
      const tokens = await client.login({ username, password });
      const engine = createSyncEngine({ vault, client });
      const report = importBundle(bundle, { vault, keys: engine.keys, userId: tokens.user.id, role: tokens.user.roles[0] ?? 'admin' });
      const status = await engine.syncNow();
      const synced = { pending: status.pendingMutations, held: status.heldMutations, state: status.state, errorCode: status.errorCode };
      process.stdout.write(`${JSON.stringify({ ...report, sync: synced }, null, 2)}\n`);
      process.stderr.write(`import: ${report.imported}/${report.entries} entries imported, ${report.invalid.length} invalid, ${report.skipped.length} skipped; ${synced.pending} waiting to sync\n`);
      return report.invalid.length || synced.pending ? 2 : 0;
    } finally {
      client.close();
    }
  } finally {
    vault.close();
  }
}

/** Dry runs write nothing, so they need no data keys. */
const noKeys = {
  cachedKey: () => null, hasPendingWrap: () => false,
  createForNewPatient: () => { throw new Error('dry run'); },
} as unknown as Parameters<typeof importBundle>[1]['keys'];

main().then(
  (code) => process.exit(code),
  (e: unknown) => fail(e instanceof EhrError ? `${e.code}: ${e.message}` : 'unexpected failure (no details are printed, they could contain patient data)'),
);
