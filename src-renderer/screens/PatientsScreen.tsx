/**
 * Find a patient: one search box (name, MRN or date of birth), results as you type, arrows and
 * Enter to open. With the box empty: "My patients" (the care team, patients.mine), with the same
 * keyboard navigation, and any other patient opened this session (break-glass) below it. All of it
 * is PHI in the store's PHI slice, cleared on lock and logout.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useApp, useEhr } from '../app/app-context';
import { createSearcher, loadMyPatients, openChart } from '../actions/patient-actions';
import { PatientTable, usePatientKeys } from '../components/PatientTable';
import type { PatientSummary } from '../../src-shared/api/types';
import { errorCode } from '../client/ehr-client';

export function PatientsScreen() {
  const ctx = useApp();
  const query = useEhr((s) => s.query);
  const results = useEhr((s) => s.results);
  const resultsFor = useEhr((s) => s.resultsFor);
  const mine = useEhr((s) => s.myPatients);
  const recent = useEhr((s) => s.recent);
  const searcher = useMemo(() => createSearcher(ctx), [ctx]);
  useEffect(() => () => searcher.cancel(), [searcher]);
  const [mineError, setMineError] = useState<string | null>(null);
  const refreshMine = useCallback(() => {
    loadMyPatients(ctx).then(
      () => setMineError(null),
      (e: unknown) => setMineError(`My patients could not be loaded (${errorCode(e)}).`),
    );
  }, [ctx]);
  // "My patients" when the screen opens (an audited read of each patient listed, like a search).
  useEffect(() => refreshMine(), [refreshMine]);
  // New data arrived (a sync finished): ask again, so neither list is the one from before it.
  // (Search is not re-run on mount: every search is an audited read of each patient it returns.)
  const lastSyncAt = useEhr((s) => s.sync.lastSyncAt);
  const seenSync = useRef(lastSyncAt);
  useEffect(() => {
    if (seenSync.current === lastSyncAt) return;
    seenSync.current = lastSyncAt;
    const current = ctx.store.getState().query;
    if (current) searcher.type(current);
    else refreshMine();
  }, [ctx, searcher, lastSyncAt, refreshMine]);

  const mineIds = new Set(mine.map((p) => p.id));
  const others = recent.filter((p) => !mineIds.has(p.id));
  const shown = results ?? mine;
  const open = (p: PatientSummary) => void openChart(ctx, p.id, p);
  const keys = usePatientKeys(shown.length, (i) => {
    const p = shown[i];
    if (p) open(p);
  });
  const tableId = results ? 'search-results' : 'my-patients';

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
        <h2>{results ? `Results (${results.length})` : `My patients (${mine.length})`}</h2>
        {!results && mineError && <p className="form-error" role="alert">{mineError}</p>}
        {shown.length === 0 && <p className="empty">{results ? 'No patient matches.' : 'No care-team patients on this workstation yet. Search to open a chart.'}</p>}
        {results && results.length === 0 && (
          <p>
            Not on this workstation?{' '}
            <button type="button" className="link" onClick={() => ctx.store.getState().openBreakGlass('')}>Request emergency access (break-glass)</button>
          </p>
        )}
        <PatientTable
          id={tableId}
          caption={results ? 'Search results' : 'My patients'}
          patients={shown}
          onOpen={open}
          selected={keys.index}
          onSelect={keys.setActive}
        />
      </div>
      {!results && others.length > 0 && (
        <div className="card">
          <h2>Also opened this session</h2>
          <PatientTable id="recent-patients" caption="Other patients opened this session" patients={others} onOpen={open} selected={-1} onSelect={() => undefined} />
        </div>
      )}
    </section>
  );
}
