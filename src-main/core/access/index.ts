export * from './break-glass-alerts';
export * from './privacy-review';
