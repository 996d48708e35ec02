/**
 * The client core in a child process, for the crash test: open the vault, sign in, sync.
 * Prints "ready" before the drain starts and "done <status>" when it finishes. The parent
 * SIGKILLs it at random points in between.
 *
 * argv: <vaultDir> <keyStoreFile> <serverUrl> <fingerprint> <username> <password> <pushBatch>
 */
import { openVault } from '../../../src-main/core/vault';
import { createServerClient } from '../../../src-main/core/sync/server-client';
import { createSyncEngine } from '../../../src-main/core/sync';
import { createFileKeyStore } from './file-key-store';

const [vaultDir, keyFile, serverUrl, fingerprint, username, password, pushBatch] = process.argv.slice(2) as string[];
const vault = await openVault({ dir: vaultDir!, keyStore: createFileKeyStore(keyFile!) });
const client = createServerClient({ serverUrl: serverUrl!, fingerprint: fingerprint!, deviceId: vault.device.deviceId });
await client.login({ username: username!, password: password! });
const engine = createSyncEngine({ vault, client, pushBatch: Number(pushBatch), backoff: { baseMs: 20, capMs: 100 } });
process.stdout.write('ready\n');
let status = await engine.syncNow();
// Transient trouble (the previous child's half-finished request): retry a few times.
for (let i = 0; i < 20 && status.pendingMutations > status.heldMutations && status.state !== 'error'; i++) {
  await new Promise((r) => setTimeout(r, 120));
  status = await engine.syncNow();
}
process.stdout.write(`done ${JSON.stringify({ state: status.state, pending: status.pendingMutations, held: status.heldMutations, audit: status.audit, errorCode: status.errorCode })}\n`);
client.close();
vault.close();
