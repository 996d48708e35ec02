/**
 * Turns the contract's Chart (a Patient and its FHIR records) into what the chart screen shows.
 * One pass over the records, so a chart with thousands of observations opens fast (see
 * test/bench/ui.ts, chart_open_p95_ms).
 */
import type {
  AllergyIntolerance, Condition, DocumentReference, Encounter, Immunization, MedicationRequest, MedicationStatement, Observation, Procedure,
} from '@medplum/fhirtypes';
import type { Chart, RecordView } from '../../src-shared/api/types';
import { conceptText, mrnOf, nameText } from './fhir-text';
import { VITAL_BY_LOINC, type VitalSign } from './vital-signs';
import { documentText, enteredInErrorReason } from './corrections';

export interface Row { id: string; version: number; status: RecordView['status']; updatedAt: number }
export interface ProblemRow extends Row { text: string; clinicalStatus: string; onset: string }
export interface MedicationRow extends Row { text: string; dosage: string; state: string }
export interface AllergyRow extends Row { text: string; criticality: string }
export interface NoteRow extends Row {
  title: string; date: string; signed: boolean; text: string;
  /** docStatus 'amended': a corrected version of a signed note. */
  amended: boolean;
  /** Marked entered in error (status or docStatus): shown struck through. */
  enteredInError: boolean;
  /** `Practitioner/<id>` references of the authors. */
  authors: string[];
}
export interface EncounterRow extends Row { type: string; start: string; state: string }
export interface EventRow extends Row { text: string; date: string; state: string }

/** How much of the timeline is loaded (it pages by clinical date), and what the chart never shows. */
export interface TimelineInfo {
  /** Timeline records loaded (encounters, observations, procedures, immunizations, notes). */
  shown: number;
  /** Timeline records on file for this role. */
  total: number;
  hasOlder: boolean;
  /** Records that are not chart data (financial...), by type. */
  notShown: { resourceType: string; count: number }[];
}

const TIMELINE = new Set(['Encounter', 'Observation', 'Procedure', 'Immunization', 'DocumentReference']);
export interface VitalPoint { t: number; value: number; at: string }
export interface VitalSeries { vital: VitalSign; points: VitalPoint[] }
/** One vital-sign Observation as recorded, entered-in-error ones included (struck through, never in a series). */
export interface VitalReading extends Row { vital: VitalSign; value: number; t: number; at: string; enteredInError: boolean; reason: string }

export interface ChartModel {
  patientId: string;
  name: string;
  birthDate: string;
  gender: string;
  mrn: string;
  allergies: AllergyRow[];
  problems: ProblemRow[];
  medications: MedicationRow[];
  /** Per vital sign, oldest first; only signs with at least one valid value (entered-in-error excluded). */
  vitals: VitalSeries[];
  /** Every vital-sign reading, newest first, entered-in-error included. */
  readings: VitalReading[];
  notes: NoteRow[];
  encounters: EncounterRow[];
  immunizations: EventRow[];
  procedures: EventRow[];
  timeline: TimelineInfo;
}

export function chartModel(chart: Chart): ChartModel {
  const m: ChartModel = {
    patientId: chart.patient.id ?? '',
    name: nameText(chart.patient.name),
    birthDate: chart.patient.birthDate ?? '',
    gender: chart.patient.gender ?? '',
    mrn: mrnOf(chart.patient),
    allergies: [], problems: [], medications: [], vitals: [], readings: [], notes: [], encounters: [], immunizations: [], procedures: [],
    timeline: { shown: 0, total: 0, hasOlder: false, notShown: chart.paging?.notShown ?? [] },
  };
  const series = new Map<string, VitalSeries>();
  for (const rec of chart.records) {
    if (rec.status === 'deleted') continue;
    const row: Row = { id: rec.id, version: rec.version, status: rec.status, updatedAt: rec.updatedAt };
    const r = rec.resource;
    if (TIMELINE.has(r.resourceType)) m.timeline.shown++;
    switch (r.resourceType) {
      case 'AllergyIntolerance': {
        const a = r as AllergyIntolerance;
        m.allergies.push({ ...row, text: conceptText(a.code), criticality: a.criticality ?? '' });
        break;
      }
      case 'Condition': {
        const c = r as Condition;
        m.problems.push({ ...row, text: conceptText(c.code), clinicalStatus: conceptText(c.clinicalStatus), onset: c.onsetDateTime ?? '' });
        break;
      }
      case 'MedicationRequest':
      case 'MedicationStatement': {
        const med = r as MedicationRequest | MedicationStatement;
        const dosage = ('dosageInstruction' in med ? med.dosageInstruction : (med as MedicationStatement).dosage)?.[0]?.text ?? '';
        m.medications.push({ ...row, text: conceptText(med.medicationCodeableConcept), dosage, state: med.status ?? '' });
        break;
      }
      case 'DocumentReference': {
        const d = r as DocumentReference;
        m.notes.push({
          ...row, title: conceptText(d.type) || 'Note', date: d.date ?? '', signed: d.docStatus === 'final' || d.docStatus === 'amended', text: documentText(d),
          amended: d.docStatus === 'amended', enteredInError: d.status === 'entered-in-error' || d.docStatus === 'entered-in-error',
          authors: (d.author ?? []).flatMap((a) => (a.reference ? [a.reference] : [])),
        });
        break;
      }
      case 'Encounter': {
        const e = r as Encounter;
        m.encounters.push({ ...row, type: conceptText(e.type?.[0]) || e.class?.display || e.class?.code || 'Encounter', start: e.period?.start ?? '', state: e.status });
        break;
      }
      case 'Immunization': {
        const i = r as Immunization;
        m.immunizations.push({ ...row, text: conceptText(i.vaccineCode), date: i.occurrenceDateTime ?? '', state: i.status });
        break;
      }
      case 'Procedure': {
        const p = r as Procedure;
        m.procedures.push({ ...row, text: conceptText(p.code), date: p.performedDateTime ?? p.performedPeriod?.start ?? '', state: p.status });
        break;
      }
      case 'Observation': {
        const o = r as Observation;
        const value = o.valueQuantity?.value;
        const loinc = o.code.coding?.find((c) => VITAL_BY_LOINC.has(c.code ?? ''))?.code;
        const vital = loinc ? VITAL_BY_LOINC.get(loinc) : undefined;
        const at = o.effectiveDateTime ?? '';
        const t = Date.parse(at);
        if (!vital || value === undefined || Number.isNaN(t)) break;
        const enteredInError = o.status === 'entered-in-error';
        m.readings.push({ ...row, vital, value, t, at, enteredInError, reason: enteredInError ? (enteredInErrorReason(o) ?? '') : '' });
        // An entered-in-error value is no measurement: never in a trend or "latest".
        if (enteredInError) break;
        let s = series.get(vital.loinc);
        if (!s) series.set(vital.loinc, (s = { vital, points: [] }));
        s.points.push({ t, value, at });
        break;
      }
      default:
        break;
    }
  }
  for (const s of series.values()) s.points.sort((a, b) => a.t - b.t);
  m.vitals = [...series.values()];
  m.readings.sort((a, b) => b.t - a.t);
  m.notes.sort((a, b) => b.date.localeCompare(a.date));
  m.encounters.sort((a, b) => b.start.localeCompare(a.start));
  m.immunizations.sort((a, b) => b.date.localeCompare(a.date));
  m.procedures.sort((a, b) => b.date.localeCompare(a.date));
  // Without paging (an older main), everything loaded is everything there is.
  m.timeline.total = Math.max(chart.paging?.timelineTotal ?? m.timeline.shown, m.timeline.shown);
  m.timeline.hasOlder = Boolean(chart.paging?.olderCursor);
  return m;
}
