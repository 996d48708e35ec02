/** How a patient summary reads in lists: "CANARYWHISTLE, Zebediah". */
import type { PatientSummary } from '../../src-shared/api/types';

export function summaryName(p: PatientSummary): string {
  return [p.family ? `${p.family.toUpperCase()},` : '', ...p.given].filter(Boolean).join(' ') || '(no name)';
}

export const ACCESS_LABEL: Record<PatientSummary['access'], string> = {
  'care-team': 'Care team',
  grant: 'Granted',
  'break-glass': 'Emergency access',
  restricted: 'Restricted',
  none: 'Not in care team',
};
