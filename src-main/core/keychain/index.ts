/** Keychain: where the workstation's secrets live (see docs/vault.md, "Key hierarchy"). */
export type { KeyStore } from './key-store';
export { KeychainAccount } from './key-store';
export { createKeytarKeyStore } from './keytar-store';
export { createMemoryKeyStore, type MemoryKeyStore } from './memory-store';
export { KeychainUnavailableError, VaultKeyMissingError } from './errors';
export { loadOrCreateDeviceSigningKey, type DeviceSigningKey } from './device-key';
