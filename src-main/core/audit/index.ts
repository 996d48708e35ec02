export * from './audit-writer';
export * from './fhir-audit-event';
export * from './audited-data-keys';
