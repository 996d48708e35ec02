export * from './break-glass-alerts';
