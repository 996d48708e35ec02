/**
 * Find a patient: one search box (name, MRN or date of birth), results as you type, arrows and
 * Enter to open. Below it, the patients opened this session (in memory, cleared on lock).
 */
import { useEffect, useMemo, useRef } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { createSearcher, openChart } from '../actions/patient-actions';
import { PatientTable, usePatientKeys } from '../components/PatientTable';
import type { PatientSummary } from '../../src-shared/api/types';

export function PatientsScreen() {
  const ctx = useApp();
  const query = useEhr((s) => s.query);
  const results = useEhr((s) => s.results);
  const resultsFor = useEhr((s) => s.resultsFor);
  const recent = useEhr((s) => s.myPatients);
  const searcher = useMemo(() => createSearcher(ctx), [ctx]);
  useEffect(() => () => searcher.cancel(), [searcher]);
  // New data arrived (a sync finished): ask again, so the results are not those of before it.
  // (Not on mount: every search is an audited read of each patient it returns.)
  const lastSyncAt = useEhr((s) => s.sync.lastSyncAt);
  const seenSync = useRef(lastSyncAt);
  useEffect(() => {
    if (seenSync.current === lastSyncAt) return;
    seenSync.current = lastSyncAt;
    const current = ctx.store.getState().query;
    if (current) searcher.type(current);
  }, [ctx, searcher, lastSyncAt]);

  const shown = results ?? recent;
  const open = (p: PatientSummary) => void openChart(ctx, p.id, p);
  const keys = usePatientKeys(shown.length, (i) => {
    const p = shown[i];
    if (p) open(p);
  });
  const tableId = results ? 'search-results' : 'recent-patients';

  return (
    <section aria-labelledby="patients-title">
      <h1 id="patients-title">Patients</h1>
      <div className="field">
        <label htmlFor="patient-search">
          Search <span className="hint">name, MRN or date of birth (YYYY-MM-DD or DD/MM/YYYY); ↑ ↓ to choose, Enter to open</span>
        </label>
        <input
          id="patient-search"
          type="search"
          autoFocus
          autoComplete="off"
          spellCheck={false}
          size={40}
          value={query}
          onChange={(e) => {
            keys.setActive(0);
            searcher.type(e.target.value);
          }}
          onKeyDown={keys.onKeyDown}
          aria-controls={shown.length ? tableId : undefined}
          aria-activedescendant={shown.length ? `${tableId}-row-${keys.index}` : undefined}
        />
      </div>
      <div className="card" data-results-for={resultsFor}>
        <h2>{results ? `Results (${results.length})` : 'Opened this session'}</h2>
        {shown.length === 0 && <p className="empty">{results ? 'No patient matches.' : 'Search to open a chart.'}</p>}
        {results && results.length === 0 && (
          <p>
            Not on this workstation?{' '}
            <button type="button" className="link" onClick={() => ctx.store.getState().openBreakGlass('')}>Request emergency access (break-glass)</button>
          </p>
        )}
        <PatientTable
          id={tableId}
          caption={results ? 'Search results' : 'Patients opened this session'}
          patients={shown}
          onOpen={open}
          selected={keys.index}
          onSelect={keys.setActive}
        />
      </div>
    </section>
  );
}
