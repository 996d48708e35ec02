export * from './clock';
export * from './session-manager';
export * from './policy';
export * from './shared-scope';
