/**
 * Where the shell finds its files and which development conveniences are on, decided from a few
 * facts main.ts reads off Electron. Pure, so a test can show that a packaged app never gets
 * devtools or the development policy override, whatever the environment says.
 */
import path from 'node:path';

export interface ShellFacts {
  /** app.isPackaged: true for an installed build. */
  isPackaged: boolean;
  /** Directory of the bundled main.cjs (dist/main/electron, inside app.asar when packaged). */
  mainDir: string;
  /** process.resourcesPath (packaged: holds app.asar and app.asar.unpacked). */
  resourcesPath: string;
  /** app.getAppPath(): the project root in development, app.asar when packaged. */
  appPath: string;
  userDataDir: string;
}

export interface ShellConfig {
  devTools: boolean;
  /** Honour EHR_DEV_POLICY_FILE (written by `npm start`); never in a packaged app. */
  allowDevPolicy: boolean;
  /** Offer updates through electron-updater: only an installed, signed build can verify them. */
  autoUpdate: boolean;
  preloadPath: string;
  rendererRoot: string;
  /** Where native/<runtime>-<abi>-... directories may be, in order. */
  nativeRoots: string[];
  vaultDir: string;
  userSettingsFile: string;
  /** Non-PHI record that this profile's device is enrolled with a server (see enrollment.ts). */
  enrollmentMarkerFile: string;
}

/**
 * Development only: EHR_DEV_USER_DATA moves the profile (vault, settings) so a test run or a second
 * developer profile never touches the real one. A packaged app ignores it.
 */
export function devUserDataDir(isPackaged: boolean, env: Record<string, string | undefined>): string | undefined {
  if (isPackaged) return undefined;
  const dir = env.EHR_DEV_USER_DATA;
  return dir && path.isAbsolute(dir) ? dir : undefined;
}

export function shellConfig(f: ShellFacts): ShellConfig {
  return {
    devTools: !f.isPackaged,
    allowDevPolicy: !f.isPackaged,
    autoUpdate: f.isPackaged,
    preloadPath: path.join(f.mainDir, 'preload.cjs'),
    rendererRoot: path.resolve(f.mainDir, '..', '..', 'renderer'),
    // Native binaries cannot be loaded from inside the asar: electron-builder unpacks them (asarUnpack).
    nativeRoots: f.isPackaged ? [path.join(f.resourcesPath, 'app.asar.unpacked')] : [f.appPath],
    vaultDir: path.join(f.userDataDir, 'vault'),
    // Non-PHI preferences the user may set (only ever tightening policy: see core/policy/resolve.ts).
    userSettingsFile: path.join(f.userDataDir, 'settings.json'),
    enrollmentMarkerFile: path.join(f.userDataDir, 'enrollment.json'),
  };
}
