/**
 * Data-key access in the audit log: the sync engine's DataKeyService, wrapped so that the first use
 * of each patient key (sealing or opening) in this run of the app leaves a `key-access` entry.
 * Once per key and run, not per record: a pull of a thousand records must not bury the log.
 */
import type { DataKeyService } from '../crypto/data-keys';

export function auditedDataKeys(service: DataKeyService, record: (patientId: string, keyId: string) => void): DataKeyService {
  const seen = new Set<string>();
  const note = (patientId: string, keyId: string): void => {
    const k = `${patientId}\u0000${keyId}`;
    if (seen.has(k)) return;
    seen.add(k);
    record(patientId, keyId);
  };
  return {
    ...service,
    async sealingKey(patientId) {
      const key = await service.sealingKey(patientId);
      note(patientId, key.keyId);
      return key;
    },
    async openingKey(patientId, keyId) {
      const key = await service.openingKey(patientId, keyId);
      note(patientId, key.keyId);
      return key;
    },
    // Batched opening (pull) leaves the same once-per-key entries as one key at a time.
    ...(service.openingKeys ? {
      async openingKeys(wanted: Parameters<NonNullable<DataKeyService['openingKeys']>>[0]) {
        const keys = await service.openingKeys!(wanted);
        for (const k of keys.values()) if (!(k instanceof Error)) note(k.patientId, k.keyId);
        return keys;
      },
    } : {}),
  };
}
