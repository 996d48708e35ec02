/** The privacy officer's audit viewer, with a break-glass review filter and chain verification. */
import { useCallback, useEffect, useState } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { loadAudit, verifyAudit } from '../actions/misc-actions';
import { messageOf } from '../components/useAsyncAction';
import { shortDateTime } from '../chart/fhir-text';
import type { AuditVerification } from '../../src-shared/api/types';

/** The record an entry names (ids only); a read of a whole chart names many: the first and a count. */
function entityText(entity: string | null): string {
  const refs = entity ? entity.split(' ') : [];
  return refs.length > 1 ? `${refs[0]} (+${refs.length - 1} more)` : (refs[0] ?? '');
}

export function AuditScreen() {
  const ctx = useApp();
  const all = useEhr((s) => s.audit);
  const [onlyBreakGlass, setOnlyBreakGlass] = useState(false);
  const [verification, setVerification] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Break-glass review: start and end entries (types break-glass-start / break-glass-end).
  const rows = onlyBreakGlass ? all.filter((r) => r.type.startsWith('break-glass')) : all;
  const load = useCallback(() => loadAudit(ctx, {}).catch((e) => setError(messageOf(e))), [ctx]);
  useEffect(() => void load(), [load]);

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="row" style={{ marginBottom: 'var(--space-4)' }}>
        <label style={{ display: 'inline-flex', gap: 'var(--space-2)', fontWeight: 'normal' }}>
          <input type="checkbox" checked={onlyBreakGlass} onChange={(e) => setOnlyBreakGlass(e.target.checked)} /> Break-glass review only
        </label>
        <button type="button" onClick={() => void verifyAudit(ctx).then(setVerification, (e) => setError(messageOf(e)))}>Verify chain</button>
        {verification && (
          <span role="status" data-testid="audit-verify">
            {verification.ok ? `Chain intact (${verification.count} entries)` : `Chain broken at #${verification.firstBadSeq}: ${verification.problem}`}
          </span>
        )}
      </div>
      <table aria-label={onlyBreakGlass ? 'Break-glass entries' : 'Audit entries'}>
        <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Action</th><th scope="col">Type</th><th scope="col">Outcome</th><th scope="col">Severity</th><th scope="col">User</th><th scope="col">Patient id</th><th scope="col">Record</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.seq}>
              <td>{r.seq}</td><td>{shortDateTime(new Date(r.at).toISOString())}</td><td>{r.action}</td><td>{r.type}</td>
              <td>{r.outcome}</td><td>{r.severity === 'high' ? <span className="badge danger">high</span> : r.severity}</td>
              <td className="mono">{r.userId ?? ''}</td><td className="mono">{r.patientId ?? ''}</td><td className="mono">{entityText(r.entity)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p className="empty">No entries.</p>}
    </section>
  );
}
