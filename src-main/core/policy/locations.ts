/**
 * Where IT puts the machine-wide policy on each OS. These are the managed places a standard user
 * cannot write: HKLM policies on Windows, MDM-managed preferences on macOS, a root-owned file on
 * Linux. Keep in step with docs/it-admin.md and electron-builder.yml's appId.
 */
export const POLICY_LOCATIONS = {
  /** Read with `reg query`; values are REG_SZ, REG_DWORD and REG_MULTI_SZ named like the policy keys. */
  win32: 'HKLM\\SOFTWARE\\Policies\\Clinic\\ClinicEHR',
  /** Delivered by an MDM configuration profile for the app's bundle id (appId in electron-builder.yml). */
  darwin: '/Library/Managed Preferences/org.clinic.ehr.plist',
  /** Any other OS (Linux): JSON, owned by root and not writable by anyone else. */
  linux: '/etc/clinic-ehr/policy.json',
} as const;

/**
 * Development builds only (never a packaged app): a JSON policy file named by this variable,
 * written by `npm start` to point at the local sync server.
 */
export const DEV_POLICY_ENV = 'EHR_DEV_POLICY_FILE';

export function policyLocation(platform: NodeJS.Platform): string {
  if (platform === 'win32') return POLICY_LOCATIONS.win32;
  if (platform === 'darwin') return POLICY_LOCATIONS.darwin;
  return POLICY_LOCATIONS.linux;
}
