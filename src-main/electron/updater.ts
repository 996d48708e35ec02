/**
 * Auto-update through electron-updater, for installed builds only. electron-updater checks the
 * downloaded update before installing it: on Windows the installer's Authenticode publisher must
 * match the running app's (win.signtoolOptions.publisherName / verifyUpdateCodeSignature in
 * electron-builder.yml); on macOS Squirrel.Mac requires the same Developer ID signature. The update
 * feed (publish: in electron-builder.yml) is HTTPS and every file is checked against its SHA-512.
 */
export interface AutoUpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  allowDowngrade: boolean;
  allowPrerelease: boolean;
  checkForUpdates(): Promise<unknown>;
  on(event: 'error', listener: (e: Error) => void): unknown;
}

export interface AutoUpdateOptions {
  enabled: boolean;
  updater: () => AutoUpdaterLike;
  /** Told that a check failed (no detail: update errors can carry URLs with tokens). */
  onError?: () => void;
  everyMs?: number;
}

/** Starts periodic checks; returns a stop function. Never downgrades, never takes prereleases. */
export function startAutoUpdate(opts: AutoUpdateOptions): () => void {
  if (!opts.enabled) return () => {};
  const u = opts.updater();
  u.autoDownload = true;
  u.autoInstallOnAppQuit = true;
  u.allowDowngrade = false;
  u.allowPrerelease = false;
  u.on('error', () => opts.onError?.());
  const check = () => {
    u.checkForUpdates().catch(() => opts.onError?.());
  };
  check();
  const t = setInterval(check, opts.everyMs ?? 4 * 60 * 60 * 1000);
  return () => clearInterval(t);
}
