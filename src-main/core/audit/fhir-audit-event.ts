/**
 * Audit entries as FHIR R4 AuditEvent, following IHE Basic Audit Log Patterns (BALP): RESTful
 * operations for PHI access, DICOM "User Authentication" for login/logout, DICOM "Security Alert"
 * with "Emergency Override Started/Stopped" for break-glass, "Export" for print/export.
 */
import type { AuditEvent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { AuditEntry, AuditType } from '../../../src-shared/audit';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const LOCAL = 'urn:clinic-ehr:audit-type';
export const SEVERITY_EXTENSION = 'urn:clinic-ehr:audit-severity';

const rest: Coding = { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'RESTful Operation' };
const userAuth: Coding = { system: DCM, code: '110114', display: 'User Authentication' };
const securityAlert: Coding = { system: DCM, code: '110113', display: 'Security Alert' };
const exportType: Coding = { system: DCM, code: '110106', display: 'Export' };
const appActivity: Coding = { system: DCM, code: '110100', display: 'Application Activity' };

function local(code: string): Coding {
  return { system: LOCAL, code };
}

/** type + subtype per entry type. */
const CODES: Record<AuditType, { type: Coding; subtype: Coding[] }> = {
  login: { type: userAuth, subtype: [{ system: DCM, code: '110122', display: 'Login' }] },
  logout: { type: userAuth, subtype: [{ system: DCM, code: '110123', display: 'Logout' }] },
  'login-failed': { type: userAuth, subtype: [{ system: DCM, code: '110122', display: 'Login' }] },
  lock: { type: userAuth, subtype: [local('lock')] },
  unlock: { type: userAuth, subtype: [local('unlock')] },
  read: { type: rest, subtype: [{ system: RESTFUL, code: 'read' }] },
  search: { type: rest, subtype: [{ system: RESTFUL, code: 'search-type' }] },
  create: { type: rest, subtype: [{ system: RESTFUL, code: 'create' }] },
  update: { type: rest, subtype: [{ system: RESTFUL, code: 'update' }] },
  delete: { type: rest, subtype: [{ system: RESTFUL, code: 'delete' }] },
  print: { type: exportType, subtype: [local('print')] },
  export: { type: exportType, subtype: [local('export')] },
  'break-glass-start': { type: securityAlert, subtype: [{ system: DCM, code: '110127', display: 'Emergency Override Started' }] },
  'break-glass-end': { type: securityAlert, subtype: [{ system: DCM, code: '110138', display: 'Emergency Override Stopped' }] },
  'key-access': { type: securityAlert, subtype: [local('key-access')] },
  'access-denied': { type: securityAlert, subtype: [local('access-denied')] },
  'sync-push': { type: appActivity, subtype: [local('sync-push')] },
  'sync-pull': { type: appActivity, subtype: [local('sync-pull')] },
  'conflict-resolved': { type: rest, subtype: [{ system: RESTFUL, code: 'update' }] },
  'vault-rekey': { type: securityAlert, subtype: [local('vault-rekey')] },
  'device-enrolled': { type: appActivity, subtype: [local('device-enrolled')] },
  'privacy-review': { type: securityAlert, subtype: [local('privacy-review')] },
  'visit-start': { type: appActivity, subtype: [local('visit-start')] },
  'visit-end': { type: appActivity, subtype: [local('visit-end')] },
  'visit-consent': { type: appActivity, subtype: [local('visit-consent')] },
  'visit-transport': { type: securityAlert, subtype: [local('visit-transport')] },
  'recording-start': { type: rest, subtype: [{ system: RESTFUL, code: 'create' }] },
  'recording-view': { type: rest, subtype: [{ system: RESTFUL, code: 'read' }] },
  'recording-download': { type: exportType, subtype: [local('recording-download')] },
  'recording-delete': { type: rest, subtype: [{ system: RESTFUL, code: 'delete' }] },
};

/** FHIR R4 AuditEvent.outcome: 0 success, 4 minor failure (refused), 8 serious failure. */
const OUTCOME = { success: '0', denied: '4', failure: '8' } as const;

export function toFhirAuditEvent(e: AuditEntry): AuditEvent {
  const codes = CODES[e.type];
  const entity: AuditEventEntity[] = [];
  if (e.patientId) {
    entity.push({
      what: { reference: `Patient/${e.patientId}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  for (const ref of e.resourceRefs ?? []) {
    if (ref === `Patient/${e.patientId}`) continue;
    entity.push({
      what: { reference: ref },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
    });
  }
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: `${e.deviceId}-${e.seq}`,
    type: codes.type,
    subtype: codes.subtype,
    action: e.action,
    recorded: e.at,
    outcome: OUTCOME[e.outcome],
    extension: [{ url: SEVERITY_EXTENSION, valueCode: e.severity }],
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
        who: e.userId ? { identifier: { value: e.userId } } : { display: 'unauthenticated' },
        requestor: true,
        ...(e.role ? { role: [{ text: e.role }] } : {}),
      },
    ],
    source: {
      observer: { identifier: { value: e.deviceId } },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '1', display: 'End-user display device, diagnostic display' }],
    },
    ...(entity.length ? { entity } : {}),
  };
  if (e.reasonCode && e.type === 'break-glass-start') {
    event.purposeOfEvent = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: e.reasonCode }] }];
  } else if (e.reasonCode) {
    event.outcomeDesc = e.reasonCode;
  }
  return event;
}
