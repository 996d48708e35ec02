/**
 * Chooses the better-sqlite3(-multiple-ciphers) binary for the running runtime, so `npm test` (Node)
 * and `npm start` / the packaged app (Electron) never rebuild each other's binary. Node's and
 * Electron's module ABIs differ (process.versions.modules: 115 for Node 20, 140 for Electron 39);
 * loading the wrong one fails with NODE_MODULE_VERSION errors.
 *
 * Layout: native/<runtime>-<abi>-<platform>-<arch>/better_sqlite3.node, built by
 * build-electron-binary.ts. Node falls back to the package's own build (npm ci builds it for Node);
 * Electron never does, because that build is Node's.
 */
import path from 'node:path';
import { EhrError, ErrorCode } from '../../../src-shared/errors';

export const NATIVE_FILE = 'better_sqlite3.node';

export interface RuntimeInfo {
  /** process.versions (modules = the ABI; electron set only inside Electron). */
  versions: { modules: string; electron?: string | undefined };
  platform: NodeJS.Platform;
  arch: string;
}

export type NativeRuntime = 'node' | 'electron';

export interface NativeChoice {
  runtime: NativeRuntime;
  abi: string;
  /** Path to pass as better-sqlite3's `nativeBinding`; undefined = the package's own build (Node only). */
  path: string | undefined;
  /** Every place looked at, for the error message and the log. */
  searched: string[];
}

export function nativeDirName(runtime: NativeRuntime, abi: string, platform: string, arch: string): string {
  return `${runtime}-${abi}-${platform}-${arch}`;
}

/**
 * @param roots directories that may hold `native/` (packaged: resources/app.asar.unpacked; dev: the
 *   project root), in order of preference.
 */
export function chooseNativeBinding(rt: RuntimeInfo, roots: string[], exists: (file: string) => boolean): NativeChoice {
  const runtime: NativeRuntime = rt.versions.electron ? 'electron' : 'node';
  const abi = rt.versions.modules;
  const dir = nativeDirName(runtime, abi, rt.platform, rt.arch);
  const searched = roots.map((r) => path.join(r, 'native', dir, NATIVE_FILE));
  const found = searched.find((f) => exists(f));
  if (found) return { runtime, abi, path: found, searched };
  if (runtime === 'node') return { runtime, abi, path: undefined, searched };
  throw new EhrError(
    ErrorCode.VAULT_UNAVAILABLE,
    `The encrypted database engine is not built for this app's Electron (ABI ${abi}, ${rt.platform}-${rt.arch}). ` +
      'Developers: run `node scripts/build-main.mjs --native` on a machine with network access. ' +
      'Installed app: reinstall it; if that does not help, tell IT the package is incomplete.',
    { abi, platform: rt.platform, arch: rt.arch },
  );
}
