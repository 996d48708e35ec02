/** The one interface every area uses to keep secrets in the OS keychain (or a stand-in for tests). */
export interface KeyStore {
  /** The secret stored under `account`, or null when there is none. */
  get(account: string): Promise<Buffer | null>;
  set(account: string, secret: Buffer): Promise<void>;
  /** True when an entry existed and was removed. */
  delete(account: string): Promise<boolean>;
}

/** Keychain accounts used by the vault. Other areas add their own names; never rename these. */
export const KeychainAccount = {
  /** The 256-bit workstation key that opens the vault. */
  vaultKey: 'vault-key',
  /** A new vault key staged during rekey, before the vault is verified under it. */
  vaultKeyPending: 'vault-key-pending',
  /** The device's Ed25519 private key (PKCS#8 DER) that signs the audit chain. */
  deviceSigningKey: 'device-signing-key',
} as const;
