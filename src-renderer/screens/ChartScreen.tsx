/** The chart: banner, then summary (problems, medications, allergies, vitals with trends), notes, encounters. */
import { useApp, useEhr } from '../app/app-context';
import { ChartBanner } from '../components/ChartBanner';
import { TrendPlot } from '../components/TrendPlot';
import { useChartModel } from '../components/useChartModel';
import { shortDateTime } from '../chart/fhir-text';
import { canRecordVitals, canWriteNotes, canPrint } from '../app/permissions';
import type { ChartModel } from '../chart/chart-model';

function Section({ title, children, empty, wide }: { title: string; children: React.ReactNode; empty: boolean; wide?: boolean }) {
  const id = `sec-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section className={wide ? 'card span-all' : 'card'} aria-labelledby={id}>
      <h2 id={id} className="section-title">{title}</h2>
      {empty ? <p className="empty">None recorded.</p> : children}
    </section>
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

export function ChartScreen() {
  const { navigate } = useApp().store.getState();
  const roles = useEhr((s) => s.user?.roles ?? []);
  const patientId = useEhr((s) => s.patientId);
  const { model, access } = useChartModel();
  if (!model || !patientId) return <p className="empty">Loading chart…</p>;
  return (
    <div>
      <h1 className="visually-hidden">Chart</h1>
      <ChartBanner model={model} access={access} />
      <div className="row no-print" style={{ marginBottom: 'var(--space-4)' }}>
        {canRecordVitals(roles) && <button type="button" onClick={() => navigate('vitals')}>Record vitals</button>}
        {canWriteNotes(roles) && <button type="button" onClick={() => navigate('note')}>Write progress note</button>}
        {canPrint(roles) && <button type="button" onClick={() => navigate('print')}>Printable summary</button>}
      </div>
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
      </div>
      <Section title="Notes" empty={model.notes.length === 0}>
        {model.notes.slice(0, 20).map((n) => (
          <article key={n.id} className="card" data-testid="note">
            <h3>{n.title} · {shortDateTime(n.date)} {n.signed && <span className="badge">signed</span>} {n.status === 'conflict' && <span className="badge danger">conflict</span>}</h3>
            <p style={{ whiteSpace: 'pre-wrap' }}>{n.text}</p>
          </article>
        ))}
      </Section>
      <Section title="Encounters" empty={model.encounters.length === 0}>
        <table>
          <thead><tr><th scope="col">Date</th><th scope="col">Type</th><th scope="col">Status</th></tr></thead>
          <tbody>{model.encounters.slice(0, 50).map((e) => <tr key={e.id}><td>{shortDateTime(e.start)}</td><td>{e.type}</td><td>{e.state}</td></tr>)}</tbody>
        </table>
      </Section>
    </div>
  );
}
