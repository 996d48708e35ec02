/** Sync conflicts: the two versions side by side; the clinician keeps one. Nothing is overwritten silently. */
import { useEffect, useState } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { loadConflicts, resolveConflict } from '../actions/sync-actions';
import { messageOf } from '../components/useAsyncAction';
import type { Resource } from '@medplum/fhirtypes';
import type { ConflictSide, RecordView } from '../../src-shared/api/types';
import { conceptText, shortDateTime } from '../chart/fhir-text';
import { chartModel } from '../chart/chart-model';
import { reasonDisplay } from '../chart/corrections';

/** A readable rendering of one version (a vital's value, a note's text, or the resource's code). */
function describe(resource: Resource): string {
  const rec: RecordView = { id: resource.id ?? '', patientId: '', resourceType: resource.resourceType as RecordView['resourceType'], version: 0, status: 'conflict', updatedAt: 0, resource };
  const m = chartModel({ patient: { resourceType: 'Patient' }, access: 'care-team', records: [rec] });
  const reading = m.readings[0];
  if (reading) {
    const text = `${reading.vital.label}: ${reading.value} ${reading.vital.unit} at ${shortDateTime(reading.at)}`;
    return reading.enteredInError ? `${text} — entered in error${reading.reason ? ` (${reasonDisplay(reading.reason) || reading.reason})` : ''}` : text;
  }
  const note = m.notes[0];
  if (note) return note.amended ? `${note.text}\n(amended)` : note.enteredInError ? `${note.text}\n(entered in error)` : note.text;
  const code = (resource as { code?: Parameters<typeof conceptText>[0] }).code;
  return code ? conceptText(code) : resource.resourceType;
}

/** Who wrote a version, on which device, when (ids only, as the contract carries them). */
function provenance(side: ConflictSide): string {
  const parts = [
    side.authorUserId ? `by user ${side.authorUserId}` : null,
    side.deviceId ? `on device ${side.deviceId}` : null,
    side.at && !Number.isNaN(Date.parse(side.at)) ? `at ${shortDateTime(side.at)}` : null,
  ].filter(Boolean);
  return parts.length ? `Written ${parts.join(' ')}` : 'Author and time not recorded';
}

export function ConflictsScreen() {
  const ctx = useApp();
  const conflicts = useEhr((s) => s.conflicts);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    loadConflicts(ctx).catch((e) => setError(messageOf(e)));
  }, [ctx]);

  const resolve = (id: string, choice: 'local' | 'server') => resolveConflict(ctx, id, choice).catch((e) => setError(messageOf(e)));

  return (
    <section aria-labelledby="conflicts-title">
      <h1 id="conflicts-title">Sync conflicts</h1>
      {error && <p className="form-error" role="alert">{error}</p>}
      {conflicts.length === 0 && <p className="empty">No conflicts.</p>}
      {conflicts.map((c) => (
        <article className="card" key={c.summary.conflictId} data-testid="conflict">
          <h2>{c.summary.resourceType} · record {c.summary.recordId} · patient record {c.summary.patientId}</h2>
          <div className="side-by-side">
            <div>
              <h3>This workstation (version {c.summary.localVersion})</h3>
              <p className="hint">{provenance(c.summary.mine)}</p>
              <pre>{describe(c.local)}</pre>
              <button type="button" className="primary" onClick={() => void resolve(c.summary.conflictId, 'local')}>Keep this workstation’s version</button>
            </div>
            <div>
              <h3>Server (version {c.summary.serverVersion})</h3>
              <p className="hint">{provenance(c.summary.theirs)}</p>
              <pre>{describe(c.server)}</pre>
              <button type="button" onClick={() => void resolve(c.summary.conflictId, 'server')}>Keep server version</button>
            </div>
          </div>
        </article>
      ))}
    </section>
  );
}
