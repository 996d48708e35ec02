/**
 * What the UI offers, from the shared access rules (the same evaluator main enforces). Hiding a
 * button is a courtesy; main refuses the call anyway.
 */
import { hasCapability, rolesAllow, type Role } from '../../src-shared/access';
import type { Resource } from '@medplum/fhirtypes';
import { VITAL_SIGNS_CATEGORY } from '../chart/vital-signs';
import { isAuthoredBy, isDocumentReference, isObservation } from '../chart/corrections';

const vitalProbe = { resourceType: 'Observation', category: [VITAL_SIGNS_CATEGORY] };

export const canRecordVitals = (roles: readonly Role[]): boolean =>
  rolesAllow(roles, { resourceType: 'Observation', interaction: 'c', resource: vitalProbe });
export const canWriteNotes = (roles: readonly Role[]): boolean =>
  rolesAllow(roles, { resourceType: 'DocumentReference', interaction: 'c', resource: { resourceType: 'DocumentReference' } });
export const canPrint = (roles: readonly Role[]): boolean => hasCapability(roles, 'chart:print-export');
/** Host a video visit (physicians; IT policy videoVisits is checked by the caller, main checks both). */
export const canHostVisit = (roles: readonly Role[]): boolean => hasCapability(roles, 'visit:host');
/** Delete a recording with a reason (its host or a privacy officer; main decides which one). */
export const canDeleteRecording = (roles: readonly Role[]): boolean => hasCapability(roles, 'recording:delete');
export const canReadAudit = (roles: readonly Role[]): boolean => hasCapability(roles, 'audit:read');
/** The clinic-wide review queue (privacy officer only; main and the server refuse anyone else). */
export const canReviewPrivacy = (roles: readonly Role[]): boolean => hasCapability(roles, 'break-glass:review');
export const canSearchPatients = (roles: readonly Role[]): boolean =>
  rolesAllow(roles, { resourceType: 'Patient', interaction: 's' });

/** May these roles update this very resource (its type and, for filtered scopes, its category)? */
export const canUpdate = (roles: readonly Role[], resource: Resource): boolean =>
  rolesAllow(roles, { resourceType: resource.resourceType, interaction: 'u', resource });

/**
 * "Amend" on a note: the role may update notes, and the note is the user's own (its author is
 * `Practitioner/<userId>`). Main checks the role; authorship is the renderer's rule today.
 */
export const canAmendNote = (roles: readonly Role[], userId: string | null, note: Resource | undefined): boolean =>
  !!note && !!userId && isDocumentReference(note) && note.status !== 'entered-in-error' && isAuthoredBy(note, userId) && canUpdate(roles, note);

/** "Mark entered in error" on a vital sign: the role may update that Observation, and it is not already marked. */
export const canMarkEnteredInError = (roles: readonly Role[], obs: Resource | undefined): boolean =>
  !!obs && isObservation(obs) && obs.status !== 'entered-in-error' && canUpdate(roles, obs);
