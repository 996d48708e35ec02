/**
 * Deterministic synthetic charts (FHIR R4) for the demo seed. Names are invented from small lists;
 * nothing here is a real person. Same index -> same chart, so demos are reproducible.
 */
import type { AllergyIntolerance, Condition, DocumentReference, MedicationStatement, Observation, Patient } from '@medplum/fhirtypes';
import { mulberry32 } from '../../src-shared/prng';

type ChartResource = Patient | Observation | Condition | MedicationStatement | AllergyIntolerance | DocumentReference;

const GIVEN = ['Alex', 'Sam', 'Jordan', 'Robin', 'Casey', 'Morgan', 'Jamie', 'Taylor', 'Avery', 'Riley', 'Quinn', 'Rowan'];
const FAMILY = ['Ashdown', 'Brightwater', 'Copperfield', 'Dunmore', 'Everly', 'Fairweather', 'Greenhill', 'Hartwell', 'Ivesdale', 'Juniper'];
const CONDITIONS = [
  { code: '38341003', display: 'Hypertension' },
  { code: '44054006', display: 'Type 2 diabetes mellitus' },
  { code: '195967001', display: 'Asthma' },
  { code: '13645005', display: 'Chronic obstructive pulmonary disease' },
];
const MEDS = [
  { code: '197361', display: 'Amlodipine 5 MG Oral Tablet' },
  { code: '860975', display: 'Metformin 500 MG Oral Tablet' },
  { code: '745679', display: 'Albuterol 90 MCG Inhaler' },
];
const ALLERGIES = [
  { code: '7980', display: 'Penicillin G' },
  { code: '1191', display: 'Aspirin' },
  { code: '2670', display: 'Codeine' },
];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function vital(id: string, patientId: string, loinc: string, display: string, value: number, unit: string, at: string): Observation {
  return {
    resourceType: 'Observation', id, status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: loinc, display }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: at,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  };
}

export function syntheticChart(patientId: string, index: number): ChartResource[] {
  const r = mulberry32(index + 1);
  const subject = { reference: `Patient/${patientId}` };
  const year = 1940 + Math.floor(r() * 65);
  const at = new Date(Date.UTC(2026, Math.floor(r() * 10), 1 + Math.floor(r() * 27), 9)).toISOString();
  const condition = pick(r, CONDITIONS);
  const med = pick(r, MEDS);
  const allergy = pick(r, ALLERGIES);
  const patient: Patient = {
    resourceType: 'Patient', id: patientId,
    identifier: [{ system: 'urn:demo:mrn', value: `DEMO-${String(index + 1).padStart(6, '0')}` }],
    name: [{ given: [pick(r, GIVEN)], family: pick(r, FAMILY) }],
    gender: r() < 0.5 ? 'female' : 'male',
    birthDate: `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`,
  };
  return [
    patient,
    vital(`${patientId}-obs-hr`, patientId, '8867-4', 'Heart rate', 55 + Math.round(r() * 45), '/min', at),
    vital(`${patientId}-obs-sys`, patientId, '8480-6', 'Systolic blood pressure', 105 + Math.round(r() * 50), 'mm[Hg]', at),
    vital(`${patientId}-obs-temp`, patientId, '8310-5', 'Body temperature', Math.round((36 + r() * 2) * 10) / 10, 'Cel', at),
    vital(`${patientId}-obs-spo2`, patientId, '59408-5', 'Oxygen saturation', 92 + Math.round(r() * 7), '%', at),
    {
      resourceType: 'Condition', id: `${patientId}-cond-1`, subject,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', ...condition }] },
    },
    {
      resourceType: 'MedicationStatement', id: `${patientId}-med-1`, status: 'active', subject,
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', ...med }] },
    },
    {
      resourceType: 'AllergyIntolerance', id: `${patientId}-allergy-1`, patient: subject,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', ...allergy }] },
    },
    {
      resourceType: 'DocumentReference', id: `${patientId}-note-1`, status: 'current', subject,
      type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] },
      content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(`Routine review. ${condition.display} stable on ${med.display}.`).toString('base64') } }],
    },
  ];
}
