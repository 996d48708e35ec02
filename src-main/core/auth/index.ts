export * from './accounts';
export * from './auth-server';
export * from './authenticator';
export * from './password-hash';
export * from './vault-accounts';
