/** docs/it-admin.md is what IT follows: it must not drift from the schema, the locations or the build config. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { FuseV1Options } from '@electron/fuses';
import { describe, expect, it } from 'vitest';
import { PolicySchema } from '../../src-shared/policy';
import { POLICY_LOCATIONS } from '../../src-main/core/policy';

const root = path.resolve(__dirname, '../..');
const doc = readFileSync(path.join(root, 'docs/it-admin.md'), 'utf8');
const builder = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as { appId: string };

/** First-column entries of the "### Keys" table. */
function documentedPolicyKeys(): string[] {
  const section = doc.slice(doc.indexOf('### Keys'), doc.indexOf('Unknown keys are refused'));
  return [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]!);
}

describe('docs/it-admin.md', () => {
  it('documents exactly the policy keys the schema accepts', () => {
    expect(documentedPolicyKeys().sort()).toEqual(Object.keys(PolicySchema.shape).sort());
  });

  it('names the policy location the app reads on every OS', () => {
    expect(doc).toContain(POLICY_LOCATIONS.win32.replace('HKLM', 'HKEY_LOCAL_MACHINE'));
    expect(doc).toContain(POLICY_LOCATIONS.darwin);
    expect(doc).toContain(POLICY_LOCATIONS.linux);
  });

  it('the macOS managed-preferences domain is the bundle id electron-builder signs', () => {
    expect(POLICY_LOCATIONS.darwin).toBe(`/Library/Managed Preferences/${builder.appId}.plist`);
    expect(doc).toContain(`**\`${builder.appId}\`**`);
  });

  it('explains every fuse', () => {
    for (const name of Object.keys(FuseV1Options).filter((k) => Number.isNaN(Number(k)))) expect(doc, name).toContain(`| ${name} |`);
  });
});
