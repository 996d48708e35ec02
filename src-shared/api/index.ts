export * from './schemas';
export * from './types';
export * from './channels';
export * from './events';
export * from './bridge';
