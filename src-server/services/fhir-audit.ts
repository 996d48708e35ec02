/**
 * Maps an audit row (device or server) to a FHIR R4 AuditEvent (IHE BALP shape): ids and codes
 * only, exactly as stored. Device rows keep their chain coordinates (device, seq, hash) as entity
 * details so an exported trail can be re-verified.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuditRow } from '../../src-shared/sync';

const OUTCOME: Record<string, AuditEvent['outcome']> = { success: '0', failure: '4', denied: '8' };

export function toAuditEvent(row: AuditRow): AuditEvent {
  const entity: NonNullable<AuditEvent['entity']> = [];
  if (row.patientId) entity.push({ what: { reference: `Patient/${row.patientId}` }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } });
  const detail = Object.entries(row.detail ?? {}).map(([type, v]) => ({ type, valueString: String(v) }));
  if (detail.length) entity.push({ what: { identifier: { value: row.id } }, detail });
  return {
    resourceType: 'AuditEvent',
    id: row.id,
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: row.action === 'R' ? '110110' : '110100', display: row.action === 'R' ? 'Patient Record' : 'Application Activity' },
    subtype: [{ system: 'urn:clinic-ehr:audit-type', code: row.type }],
    action: row.action,
    recorded: row.at,
    outcome: OUTCOME[row.outcome] ?? '4',
    agent: [
      {
        who: row.userId ? { reference: `Practitioner/${row.userId}` } : { display: 'unauthenticated' },
        requestor: true,
        ...(row.deviceId ? { network: { address: row.deviceId, type: '5' as const } } : {}),
      },
    ],
    source: { observer: { display: row.source === 'device' ? `device ${row.deviceId ?? ''}` : 'clinic-ehr-sync' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: row.source === 'device' ? '1' : '4' }] },
    ...(entity.length ? { entity } : {}),
    ...(row.correlationId ? { extension: [{ url: 'urn:clinic-ehr:correlation-id', valueString: row.correlationId }] } : {}),
  };
}
