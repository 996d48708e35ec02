/**
 * The chart: banner, then summary (problems, medications, allergies, vitals with trends), every
 * vital-sign reading (with "Mark entered in error"), notes (with "Amend" on the user's own),
 * encounters, procedures, immunizations — and the timeline pager: how many timeline records are
 * loaded of how many, "Load older records" (by clinical date), and what the chart does not show.
 * A list shortened on screen says so; nothing is left out silently.
 */
import { useMemo, useState } from 'react';
import type { Resource } from '@medplum/fhirtypes';
import { useApp, useEhr } from '../app/app-context';
import { loadOlderRecords } from '../actions/patient-actions';
import { useAsyncAction } from '../components/useAsyncAction';
import { ChartBanner } from '../components/ChartBanner';
import { TrendPlot } from '../components/TrendPlot';
import { EnteredInErrorDialog } from '../components/EnteredInErrorDialog';
import { useChartModel } from '../components/useChartModel';
import { shortDateTime } from '../chart/fhir-text';
import { reasonDisplay } from '../chart/corrections';
import { canAmendNote, canMarkEnteredInError, canRecordVitals, canWriteNotes, canPrint, canHostVisit, canDeleteRecording } from '../app/permissions';
import { StartVisitButton, VisitPanel } from '../components/visit/VisitPanel';
import { RecordingsSection } from '../components/visit/RecordingsSection';
import type { ChartModel, EventRow, NoteRow, VitalReading } from '../chart/chart-model';
import type { Role } from '../../src-shared/access';

/** Readings listed at first (newest first); "Show all" lists up to READINGS_MAX. */
const READINGS_SHOWN = 20;
const READINGS_MAX = 500;

function Section({ title, children, empty, wide }: { title: string; children: React.ReactNode; empty: boolean; wide?: boolean }) {
  const id = `sec-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section className={wide ? 'card span-all' : 'card'} aria-labelledby={id}>
      <h2 id={id} className="section-title" tabIndex={-1}>{title}</h2>
      {empty ? <p className="empty">None recorded.</p> : children}
    </section>
  );
}

/** The chart's resources by record id: what the role rules are checked against. */
function useResources(): Map<string, Resource> {
  const chart = useEhr((s) => s.chart);
  return useMemo(() => new Map((chart?.records ?? []).map((r) => [r.id, r.resource])), [chart]);
}

function Readings({ model, roles, resources, patientId }: { model: ChartModel; roles: readonly Role[]; resources: Map<string, Resource>; patientId: string }) {
  const [all, setAll] = useState(false);
  const [confirming, setConfirming] = useState<VitalReading | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const rows = model.readings.slice(0, all ? READINGS_MAX : READINGS_SHOWN);
  const headingId = 'sec-vital-sign-readings';
  return (
    <Section title="Vital sign readings" empty={model.readings.length === 0} wide>
      {done && <p role="status" data-testid="correction-status">{done}</p>}
      <table aria-labelledby={headingId}>
        <thead><tr><th scope="col">Sign</th><th scope="col">Value</th><th scope="col">When</th><th scope="col">Status</th><th scope="col" className="no-print">Action</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} className={r.enteredInError ? 'entered-in-error' : undefined} data-testid="reading" data-entered-in-error={r.enteredInError || undefined}>
              <td>{r.enteredInError ? <s>{r.vital.label}</s> : r.vital.label}</td>
              <td className="nowrap">{r.enteredInError ? <s>{r.value} {r.vital.unit}</s> : <>{r.value} {r.vital.unit}</>}</td>
              <td className="nowrap">{r.enteredInError ? <s>{shortDateTime(r.at)}</s> : shortDateTime(r.at)}</td>
              <td>
                {r.enteredInError
                  ? <><span className="badge danger">Entered in error</span>{r.reason && <span className="hint"> {reasonDisplay(r.reason) || r.reason}</span>}</>
                  : r.status === 'pending' ? <span className="badge">not yet synced</span> : r.status === 'conflict' ? <span className="badge danger">conflict</span> : null}
              </td>
              <td className="no-print">
                {canMarkEnteredInError(roles, resources.get(r.id)) && (
                  <button type="button" onClick={() => { setDone(null); setConfirming(r); }}
                    aria-label={`Mark entered in error: ${r.vital.label} ${r.value} ${r.vital.unit}, ${shortDateTime(r.at)}`}>
                    Mark entered in error
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {model.readings.length > READINGS_SHOWN && (
        <button type="button" className="link no-print" onClick={() => setAll(!all)} aria-expanded={all}>
          {all ? 'Show the latest only' : `Show all readings (${Math.min(model.readings.length, READINGS_MAX)})`}
        </button>
      )}
      {confirming && (
        <EnteredInErrorDialog
          reading={confirming}
          patientId={patientId}
          onClose={() => setConfirming(null)}
          onDone={() => {
            setConfirming(null);
            setDone('Marked entered in error. The reading stays in the record, struck through, and is left out of the trends.');
            document.getElementById(headingId)?.focus();
          }}
        />
      )}
    </Section>
  );
}

function Note({ n, mayAmend, onAmend }: { n: NoteRow; mayAmend: boolean; onAmend: () => void }) {
  const headingId = `note-${n.id}`;
  return (
    <article className={n.enteredInError ? 'card entered-in-error' : 'card'} data-testid="note" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {n.title} · {shortDateTime(n.date)} {n.signed && <span className="badge">signed</span>}{' '}
        {n.amended && <span className="badge" data-testid="note-amended">amended</span>}{' '}
        {n.enteredInError && <span className="badge danger">Entered in error</span>}{' '}
        {n.status === 'pending' && <span className="badge">not yet synced</span>}{' '}
        {n.status === 'conflict' && <span className="badge danger">conflict</span>}
      </h3>
      {n.amended && n.updatedAt > 0 && <p className="hint">Amended {shortDateTime(new Date(n.updatedAt).toISOString())}; earlier versions are kept in the record history.</p>}
      <p style={{ whiteSpace: 'pre-wrap' }} className={n.enteredInError ? 'struck' : undefined}>{n.text}</p>
      {mayAmend && (
        <button type="button" className="no-print" onClick={onAmend} aria-describedby={headingId}>Amend note</button>
      )}
    </article>
  );
}

function Vitals({ model }: { model: ChartModel }) {
  return (
    <Section title="Recent vitals" empty={model.vitals.length === 0} wide>
      <table>
        <thead><tr><th scope="col">Sign</th><th scope="col">Latest</th><th scope="col">When</th><th scope="col">Trend</th></tr></thead>
        <tbody>
          {model.vitals.map((s) => {
            const last = s.points[s.points.length - 1]!;
            return (
              <tr key={s.vital.loinc} data-testid={`vital-${s.vital.key}`}>
                <td>{s.vital.label}</td>
                <td className="nowrap"><strong>{last.value}</strong> {s.vital.unit}</td>
                <td className="nowrap">{shortDateTime(last.at)}</td>
                <td><TrendPlot series={s} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}

/** Rows listed per section at first; "Show all" lists every loaded one. */
const NOTES_SHOWN = 20;
const ROWS_SHOWN = 50;

/** "Showing 50 of 120 — Show all": a shortened list always says so. */
function MoreToggle({ shown, total, all, onToggle, what }: { shown: number; total: number; all: boolean; onToggle: () => void; what: string }) {
  if (total <= shown && !all) return null;
  return (
    <p className="hint no-print">
      {all ? `Showing all ${total} ${what} loaded.` : `Showing ${shown} of ${total} ${what} loaded.`}{' '}
      <button type="button" className="link" onClick={onToggle} aria-expanded={all}>{all ? 'Show fewer' : `Show all ${total}`}</button>
    </p>
  );
}

function Events({ title, rows }: { title: string; rows: EventRow[] }) {
  const [all, setAll] = useState(false);
  const shown = all ? rows : rows.slice(0, ROWS_SHOWN);
  return (
    <Section title={title} empty={rows.length === 0}>
      <table>
        <thead><tr><th scope="col">Date</th><th scope="col">What</th><th scope="col">Status</th></tr></thead>
        <tbody>{shown.map((e) => <tr key={e.id}><td>{shortDateTime(e.date)}</td><td>{e.text}</td><td>{e.state}</td></tr>)}</tbody>
      </table>
      <MoreToggle shown={shown.length} total={rows.length} all={all} onToggle={() => setAll(!all)} what={title.toLowerCase()} />
    </Section>
  );
}

/** Financial and other non-clinical types the chart never shows, named so their absence is not a surprise. */
const NOT_SHOWN_LABEL: Record<string, string> = { Claim: 'claims', ExplanationOfBenefit: 'explanations of benefit', Coverage: 'coverage records' };

function TimelinePager({ model }: { model: ChartModel }) {
  const ctx = useApp();
  const { run, busy, error } = useAsyncAction(() => loadOlderRecords(ctx));
  const t = model.timeline;
  return (
    <section className="card span-all" aria-labelledby="sec-chart-history" data-testid="chart-pager">
      <h2 id="sec-chart-history" className="section-title">Chart history</h2>
      <p role="status" data-testid="chart-pager-status">
        {t.hasOlder
          ? `Showing ${t.shown} of ${t.total} encounters, observations, procedures, immunizations and notes — the newest by clinical date; older ones are not loaded yet.`
          : `Showing all ${t.total} encounters, observations, procedures, immunizations and notes.`}{' '}
        Every problem, medication and allergy is listed above.
      </p>
      {t.hasOlder && (
        <button type="button" className="no-print" onClick={() => void run()} disabled={busy} data-testid="load-older">
          {busy ? 'Loading older records…' : 'Load older records (by date)'}
        </button>
      )}
      {error && <p role="alert">Older records could not be loaded: {error}</p>}
      {t.notShown.length > 0 && (
        <p className="hint" data-testid="chart-not-shown">
          Not chart data, not shown here: {t.notShown.map((n) => `${n.count} ${NOT_SHOWN_LABEL[n.resourceType] ?? n.resourceType}`).join(', ')}.
        </p>
      )}
    </section>
  );
}

const NO_ROLES: readonly Role[] = [];

export function ChartScreen() {
  const { navigate } = useApp().store.getState();
  const roles = useEhr((s) => s.user?.roles ?? NO_ROLES);
  const userId = useEhr((s) => s.user?.userId ?? null);
  const patientId = useEhr((s) => s.patientId);
  const { model, access } = useChartModel();
  const resources = useResources();
  const [allNotes, setAllNotes] = useState(false);
  const [allEncounters, setAllEncounters] = useState(false);
  const videoVisits = useEhr((s) => s.videoVisits);
  const visit = useEhr((s) => s.visit);
  const hostsVisits = videoVisits && canHostVisit(roles);
  if (!model || !patientId) return <p className="empty">Loading chart…</p>;
  return (
    <div>
      <h1 className="visually-hidden">Chart</h1>
      <ChartBanner model={model} access={access} />
      <div className="row no-print" style={{ marginBottom: 'var(--space-4)' }}>
        {canRecordVitals(roles) && <button type="button" onClick={() => navigate('vitals')}>Record vitals</button>}
        {canWriteNotes(roles) && <button type="button" onClick={() => navigate('note')}>Write progress note</button>}
        {canPrint(roles) && <button type="button" onClick={() => navigate('print')}>Printable summary</button>}
        {hostsVisits && !visit && <StartVisitButton patientId={patientId} />}
      </div>
      {visit && visit.patientId === patientId && <VisitPanel />}
      {visit && visit.patientId !== patientId && visit.status !== 'ended' && (
        <p role="status" className="hint">A video visit with another patient is running; open that chart to see it.</p>
      )}
      <div className="grid-2">
        <Section title="Problems" empty={model.problems.length === 0}>
          <ul>{model.problems.map((p) => <li key={p.id}>{p.text} {p.clinicalStatus && <span className="badge">{p.clinicalStatus}</span>}</li>)}</ul>
        </Section>
        <Section title="Medications" empty={model.medications.length === 0}>
          <ul>{model.medications.map((m) => <li key={m.id}>{m.text}{m.dosage && ` — ${m.dosage}`}</li>)}</ul>
        </Section>
        <Section title="Allergies" empty={model.allergies.length === 0}>
          <ul>{model.allergies.map((a) => <li key={a.id}>{a.text}{a.criticality && ` (${a.criticality} criticality)`}</li>)}</ul>
        </Section>
        <Vitals model={model} />
        <Readings model={model} roles={roles} resources={resources} patientId={patientId} />
      </div>
      <Section title="Notes" empty={model.notes.length === 0}>
        {model.notes.slice(0, allNotes ? undefined : NOTES_SHOWN).map((n) => (
          <Note key={n.id} n={n} mayAmend={canAmendNote(roles, userId, resources.get(n.id))} onAmend={() => navigate('note', patientId, n.id)} />
        ))}
        <MoreToggle shown={Math.min(model.notes.length, NOTES_SHOWN)} total={model.notes.length} all={allNotes} onToggle={() => setAllNotes(!allNotes)} what="notes" />
      </Section>
      <Section title="Encounters" empty={model.encounters.length === 0}>
        <table>
          <thead><tr><th scope="col">Date</th><th scope="col">Type</th><th scope="col">Status</th></tr></thead>
          <tbody>{model.encounters.slice(0, allEncounters ? undefined : ROWS_SHOWN).map((e) => <tr key={e.id}><td>{shortDateTime(e.start)}</td><td>{e.type}</td><td>{e.state}</td></tr>)}</tbody>
        </table>
        <MoreToggle shown={Math.min(model.encounters.length, ROWS_SHOWN)} total={model.encounters.length} all={allEncounters} onToggle={() => setAllEncounters(!allEncounters)} what="encounters" />
      </Section>
      <Events title="Procedures" rows={model.procedures} />
      <Events title="Immunizations" rows={model.immunizations} />
      {hostsVisits && <RecordingsSection patientId={patientId} canDelete={canDeleteRecording(roles)} />}
      <TimelinePager model={model} />
    </div>
  );
}
