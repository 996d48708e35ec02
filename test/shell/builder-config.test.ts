import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Ajv from 'ajv';
import yaml from 'js-yaml';
import { FuseV1Options, FuseVersion } from '@electron/fuses';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const require = createRequire(import.meta.url);
type Targets = { target: Array<{ target: string }> };
/** The parts of electron-builder.yml these tests read (the schema check covers the whole file). */
interface BuilderConfig {
  [key: string]: unknown;
  asar: boolean;
  asarUnpack: string[];
  files: string[];
  npmRebuild: boolean;
  afterPack: string;
  electronFuses?: unknown;
  forceCodeSigning: boolean;
  publish: { provider: string; url: string };
  win: Targets & { verifyUpdateCodeSignature: boolean; signtoolOptions: { publisherName: string } };
  nsis: { perMachine: boolean; deleteAppDataOnUninstall: boolean };
  msi: { perMachine: boolean };
  mac: Targets & { hardenedRuntime: boolean; notarize: boolean; entitlements: string; entitlementsInherit: string; extendInfo?: Record<string, string> };
  linux: Targets;
}
const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const { fuseConfig } = require(path.join(root, 'scripts/after-pack.cjs')) as {
  fuseConfig: (o: typeof FuseV1Options, v: string, opts?: { internalTestBuild?: boolean; platform?: string }) => Record<string, unknown>;
};

// electron-builder's own schema, compiled once. It uses one custom keyword ("typeof": "function" for
// hooks given as functions); a YAML file can only hold strings there, so it is declared and ignored.
const validate = (() => {
  const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addKeyword({ keyword: 'typeof', schemaType: 'string' });
  return ajv.compile(schema);
})();

describe('electron-builder.yml', () => {
  it("validates against the installed electron-builder's own JSON schema", () => {
    const ok = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check is real: a misspelt key fails it', () => {
    expect(validate({ ...config, nsis: { ...config.nsis, perMachin: true } })).toBe(false);
    expect(validate({ ...config, mac: { ...config.mac, hardenedRuntime: 'yes' } })).toBe(false);
  });

  it('builds every target IT deploys', () => {
    const targets = (list: Array<{ target: string }>) => list.map((t) => t.target);
    expect(targets(config.win.target)).toEqual(expect.arrayContaining(['nsis', 'msi']));
    expect(targets(config.mac.target)).toEqual(expect.arrayContaining(['dmg', 'pkg']));
    expect(targets(config.linux.target)).toEqual(expect.arrayContaining(['AppImage', 'deb', 'rpm']));
    expect(config.nsis.perMachine).toBe(true);
    expect(config.msi.perMachine).toBe(true);
    expect(config.nsis.deleteAppDataOnUninstall).toBe(false);
  });

  it('macOS: hardened runtime, entitlements that exist, notarization', () => {
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.notarize).toBe(true);
    for (const f of [config.mac.entitlements, config.mac.entitlementsInherit]) {
      const plist = readFileSync(path.join(root, f), 'utf8');
      expect(plist).toContain('com.apple.security.cs.allow-jit');
      expect(plist).not.toMatch(/<key>com\.apple\.security\.cs\.(disable-library-validation|allow-dyld-environment-variables)<\/key>/);
      // Video visits: camera and microphone (granted in the app only while a visit is open); nothing else.
      expect(plist).toContain('<key>com.apple.security.device.camera</key>');
      expect(plist).toContain('<key>com.apple.security.device.audio-input</key>');
      expect(plist).not.toMatch(/<key>com\.apple\.security\.personal-information\.(location|addressbook|calendars|photos-library)<\/key>/);
      expect(plist).not.toContain('com.apple.security.automation.apple-events');
    }
    // macOS refuses the camera to a hardened app without a usage text.
    expect(config.mac.extendInfo?.NSCameraUsageDescription).toMatch(/video visit/);
    expect(config.mac.extendInfo?.NSMicrophoneUsageDescription).toMatch(/video visit/);
  });

  it('signs from the environment only: no certificate, password or key in the file', () => {
    const text = readFileSync(path.join(root, 'electron-builder.yml'), 'utf8');
    for (const key of ['cscLink', 'cscKeyPassword', 'cscInstallerLink', 'cscInstallerKeyPassword', 'certificateFile', 'certificatePassword']) {
      expect(JSON.stringify(config)).not.toContain(`"${key}"`);
    }
    expect(text).not.toMatch(/BEGIN (RSA |EC )?PRIVATE KEY|\.p12|\.pfx/i);
    expect(config.forceCodeSigning).toBe(true);
    expect(config.win.verifyUpdateCodeSignature).toBe(true);
    expect(config.win.signtoolOptions.publisherName).toBeTruthy();
  });

  it('ships native modules unpacked and never rebuilds them in place', () => {
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(expect.arrayContaining(['native/**', '**/*.node']));
    expect(config.npmRebuild).toBe(false);
    expect(config.files).toContain('native/electron-*/**');
    expect(config.afterPack).toBe('./scripts/after-pack.cjs');
    // Our afterPack flips the fuses; electron-builder's own fuse step would flip a partial set.
    expect(config.electronFuses).toBeUndefined();
  });

  it('publishes updates over HTTPS for electron-updater', () => {
    expect(config.publish.provider).toBe('generic');
    expect(config.publish.url).toMatch(/^https:\/\//);
  });
});

describe('fuses (scripts/after-pack.cjs)', () => {
  const fuseNames = Object.keys(FuseV1Options).filter((k) => Number.isNaN(Number(k))) as Array<keyof typeof FuseV1Options>;
  const release = fuseConfig(FuseV1Options, FuseVersion.V1, { platform: 'linux' });

  it('sets every fuse the installed @electron/fuses knows, with strictlyRequireAllFuses', () => {
    expect(release.strictlyRequireAllFuses).toBe(true);
    expect(release.version).toBe(FuseVersion.V1);
    for (const name of fuseNames) expect(typeof release[FuseV1Options[name]], name).toBe('boolean');
  });

  it('release build: RunAsNode, NODE_OPTIONS and --inspect off; cookie encryption, ASAR integrity and asar-only on', () => {
    const v = (name: keyof typeof FuseV1Options) => release[FuseV1Options[name]];
    expect(v('RunAsNode')).toBe(false);
    expect(v('EnableNodeOptionsEnvironmentVariable')).toBe(false);
    expect(v('EnableNodeCliInspectArguments')).toBe(false);
    expect(v('EnableCookieEncryption')).toBe(true);
    expect(v('EnableEmbeddedAsarIntegrityValidation')).toBe(true);
    expect(v('OnlyLoadAppFromAsar')).toBe(true);
    expect(v('GrantFileProtocolExtraPrivileges')).toBe(false);
  });

  it('an internal test build differs only in keeping --inspect (for Playwright)', () => {
    const test = fuseConfig(FuseV1Options, FuseVersion.V1, { internalTestBuild: true, platform: 'linux' });
    const diff = Object.keys(test).filter((k) => test[k] !== release[k]);
    expect(diff).toEqual([String(FuseV1Options.EnableNodeCliInspectArguments)]);
  });

  it('macOS resets the ad-hoc signature after flipping (the real signature follows)', () => {
    expect(fuseConfig(FuseV1Options, FuseVersion.V1, { platform: 'darwin' }).resetAdHocDarwinSignature).toBe(true);
  });
});
