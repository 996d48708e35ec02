// electron-builder afterPack hook: flips the Electron fuses of the packaged binary before it is
// signed (electron-builder signs after this hook, so the signature covers the flipped fuses).
//
// Every fuse the installed @electron/fuses knows is set explicitly and strictlyRequireAllFuses is on:
// an Electron upgrade that adds a fuse fails the build until someone decides its value here.
//
// EHR_INTERNAL_TEST_BUILD=1 keeps only EnableNodeCliInspectArguments on, so Playwright's _electron
// can attach to an internal test build. Never set it for a build that reaches a clinic.
'use strict';

/**
 * The fuse wire we ship. Pure (takes the enum from @electron/fuses), so the shell tests check it
 * against the installed package.
 * @param {Record<string, number>} FuseV1Options
 * @param {string} FuseVersionV1
 * @param {{ internalTestBuild?: boolean, platform?: string }} [opts]
 */
function fuseConfig(FuseV1Options, FuseVersionV1, opts = {}) {
  return {
    version: FuseVersionV1,
    strictlyRequireAllFuses: true,
    // macOS arm64 needs a valid (ad-hoc) signature to run; electron-builder re-signs for real after us.
    resetAdHocDarwinSignature: opts.platform === 'darwin',
    // ELECTRON_RUN_AS_NODE would turn the signed app into a general-purpose Node for anyone.
    [FuseV1Options.RunAsNode]: false,
    // Cookies and local storage encrypted with an OS-keychain key.
    [FuseV1Options.EnableCookieEncryption]: true,
    // NODE_OPTIONS could preload arbitrary code into the main process.
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    // --inspect would let anyone on the machine attach a debugger to the process holding the vault key.
    [FuseV1Options.EnableNodeCliInspectArguments]: Boolean(opts.internalTestBuild),
    // app.asar is checked against the hash embedded in the (signed) binary at load.
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    // No loading of a loose app/ folder planted next to app.asar.
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    // We ship no custom V8 snapshot.
    [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
    // file:// gets no extra privileges: we serve the renderer over app://.
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
    // Electron's default (on): WebAssembly trap handlers, a memory-safety guard.
    [FuseV1Options.WasmTrapHandlers]: true,
  };
}

/** @param {{ electronPlatformName: string, packager: { addElectronFuses(ctx: unknown, cfg: unknown): Promise<unknown> } }} context */
async function afterPack(context) {
  const { FuseV1Options, FuseVersion } = await import('@electron/fuses');
  const internalTestBuild = process.env.EHR_INTERNAL_TEST_BUILD === '1';
  if (internalTestBuild) console.warn('after-pack: INTERNAL TEST BUILD, Node CLI inspect arguments stay enabled');
  // electron-builder locates the binary for each platform and calls @electron/fuses' flipFuses.
  await context.packager.addElectronFuses(
    context,
    fuseConfig(FuseV1Options, FuseVersion.V1, { internalTestBuild, platform: context.electronPlatformName }),
  );
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.fuseConfig = fuseConfig;
