/**
 * The device's Ed25519 signing key, kept in the KeyStore beside the vault key. It signs every
 * audit entry's hash so the server can tell this workstation's chain from a forged one.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { KeychainAccount, type KeyStore } from './key-store';

export interface DeviceSigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Raw 32-byte public key, base64url: what enrollment sends to the server. */
  publicKeyRaw: string;
  publicKeyPem: string;
}

function describe(privateKey: KeyObject): DeviceSigningKey {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    privateKey,
    publicKey,
    publicKeyRaw: String(jwk.x),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/** Reads the device key, creating and storing it on first use. */
export async function loadOrCreateDeviceSigningKey(keyStore: KeyStore): Promise<DeviceSigningKey> {
  const stored = await keyStore.get(KeychainAccount.deviceSigningKey);
  if (stored) return describe(createPrivateKey({ key: stored, format: 'der', type: 'pkcs8' }));
  const { privateKey } = generateKeyPairSync('ed25519');
  await keyStore.set(KeychainAccount.deviceSigningKey, privateKey.export({ format: 'der', type: 'pkcs8' }));
  return describe(privateKey);
}
