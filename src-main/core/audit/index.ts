export * from './audit-writer';
export * from './fhir-audit-event';
