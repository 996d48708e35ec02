/**
 * A printable patient summary for downtime. The content comes from print.chart, which main audits;
 * the browser's print dialog then prints (or saves as PDF) what print.css lays out.
 */
import { useEffect, useState } from 'react';
import { useApp } from '../app/app-context';
import { printChart } from '../actions/misc-actions';
import { PatientScreenFrame } from '../components/PatientScreenFrame';
import { messageOf } from '../components/useAsyncAction';
import { shortDateTime } from '../chart/fhir-text';

function PrintBody({ patientId }: { patientId: string }) {
  const ctx = useApp();
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    printChart(ctx, patientId).then(() => setReady(true), (e) => setError(messageOf(e)));
  }, [ctx, patientId]);
  return (
    <>
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="row no-print">
        <button type="button" className="primary" disabled={!ready} onClick={() => window.print()}>Print / save as PDF</button>
        <button type="button" onClick={() => ctx.store.getState().navigate('chart')}>Back to chart</button>
      </div>
      <p>Printed {shortDateTime(new Date().toISOString())}. Confidential patient information.</p>
    </>
  );
}

export function PrintScreen() {
  return (
    <PatientScreenFrame title="Patient summary">
      {(model, patientId) => (
        <div data-testid="print-summary">
          <PrintBody patientId={patientId} />
          <h2>Problems</h2>
          <ul>{model.problems.map((p) => <li key={p.id}>{p.text}</li>)}</ul>
          <h2>Medications</h2>
          <ul>{model.medications.map((m) => <li key={m.id}>{m.text}{m.dosage && ` — ${m.dosage}`}</li>)}</ul>
          <h2>Latest vitals</h2>
          <ul>{model.vitals.map((s) => { const p = s.points[s.points.length - 1]!; return <li key={s.vital.loinc}>{s.vital.label}: {p.value} {s.vital.unit} ({shortDateTime(p.at)})</li>; })}</ul>
        </div>
      )}
    </PatientScreenFrame>
  );
}
