/**
 * What the UI offers, from the shared access rules (the same evaluator main enforces). Hiding a
 * button is a courtesy; main refuses the call anyway.
 */
import { hasCapability, rolesAllow, type Role } from '../../src-shared/access';
import { VITAL_SIGNS_CATEGORY } from '../chart/vital-signs';

const vitalProbe = { resourceType: 'Observation', category: [VITAL_SIGNS_CATEGORY] };

export const canRecordVitals = (roles: readonly Role[]): boolean =>
  rolesAllow(roles, { resourceType: 'Observation', interaction: 'c', resource: vitalProbe });
export const canWriteNotes = (roles: readonly Role[]): boolean =>
  rolesAllow(roles, { resourceType: 'DocumentReference', interaction: 'c', resource: { resourceType: 'DocumentReference' } });
export const canPrint = (roles: readonly Role[]): boolean => hasCapability(roles, 'chart:print-export');
export const canReadAudit = (roles: readonly Role[]): boolean => hasCapability(roles, 'audit:read');
export const canSearchPatients = (roles: readonly Role[]): boolean =>
  rolesAllow(roles, { resourceType: 'Patient', interaction: 's' });
