/**
 * The vital signs a nurse records here: LOINC code, UCUM unit, and the plausible range outside
 * which we refuse the value as a typo (a heart rate of 720 is a slipped key, not a patient).
 * Ranges are deliberately wide: they catch entry errors, they do not judge clinical normality.
 */
import type { Observation } from '@medplum/fhirtypes';

export interface VitalSign {
  key: string;
  label: string;
  loinc: string;
  unit: string;
  /** UCUM code of the unit. */
  ucum: string;
  min: number;
  max: number;
  /** Decimal places accepted. */
  decimals: number;
}

export const VITAL_SIGNS: readonly VitalSign[] = [
  { key: 'hr', label: 'Heart rate', loinc: '8867-4', unit: 'beats/min', ucum: '/min', min: 20, max: 250, decimals: 0 },
  { key: 'sys', label: 'Systolic BP', loinc: '8480-6', unit: 'mmHg', ucum: 'mm[Hg]', min: 50, max: 260, decimals: 0 },
  { key: 'dia', label: 'Diastolic BP', loinc: '8462-4', unit: 'mmHg', ucum: 'mm[Hg]', min: 20, max: 160, decimals: 0 },
  { key: 'rr', label: 'Respiratory rate', loinc: '9279-1', unit: 'breaths/min', ucum: '/min', min: 4, max: 70, decimals: 0 },
  { key: 'temp', label: 'Temperature', loinc: '8310-5', unit: '°C', ucum: 'Cel', min: 30, max: 43, decimals: 1 },
  { key: 'spo2', label: 'SpO₂', loinc: '59408-5', unit: '%', ucum: '%', min: 50, max: 100, decimals: 0 },
  { key: 'weight', label: 'Weight', loinc: '29463-7', unit: 'kg', ucum: 'kg', min: 0.3, max: 400, decimals: 1 },
];

export const VITAL_BY_LOINC: ReadonlyMap<string, VitalSign> = new Map(VITAL_SIGNS.map((v) => [v.loinc, v]));

export type VitalCheck = { ok: true; value: number } | { ok: false; message: string };

/** Parse what was typed into a vital's field. Empty means "not measured", which is allowed. */
export function checkVital(vital: VitalSign, raw: string): VitalCheck | null {
  const text = raw.trim().replace(',', '.');
  if (text === '') return null;
  if (!/^\d+(\.\d+)?$/.test(text)) return { ok: false, message: `${vital.label}: enter a number in ${vital.unit}` };
  const decimals = text.split('.')[1]?.length ?? 0;
  if (decimals > vital.decimals) {
    return { ok: false, message: `${vital.label}: at most ${vital.decimals} decimal place${vital.decimals === 1 ? '' : 's'}` };
  }
  const value = Number(text);
  if (value < vital.min || value > vital.max) {
    return { ok: false, message: `${vital.label}: ${value} ${vital.unit} is outside the plausible range ${vital.min}–${vital.max}` };
  }
  return { ok: true, value };
}

export const VITAL_SIGNS_CATEGORY = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }],
};

/** One FHIR Observation per measured vital (each syncs, conflicts and audits on its own). */
export function vitalObservation(vital: VitalSign, value: number, patientId: string, effective: string): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [VITAL_SIGNS_CATEGORY],
    code: { coding: [{ system: 'http://loinc.org', code: vital.loinc, display: vital.label }], text: vital.label },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective,
    valueQuantity: { value, unit: vital.unit, system: 'http://unitsofmeasure.org', code: vital.ucum },
  };
}
