import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PolicySchema } from '../../src-shared/policy';
import { loadPolicy, POLICY_LOCATIONS } from '../../src-main/core/policy';
import { TEMPLATE_FILES, renderAdmx } from '../../src-main/core/policy/templates';

const root = path.resolve(__dirname, '../..');
const admx = renderAdmx();
const schema = z.toJSONSchema(PolicySchema, { io: 'input' }) as { properties: Record<string, { type?: string; minimum?: number; maximum?: number }> };

describe('Group Policy templates (assets/policy)', () => {
  it.each(Object.entries(TEMPLATE_FILES))('%s is up to date with the schema (regenerate: npx tsx src-main/core/policy/templates.ts)', (file, render) => {
    expect(readFileSync(path.join(root, file), 'utf8')).toBe(render());
  });

  it('defines one machine policy per schema key, under the key the app reads', () => {
    const names = [...admx.matchAll(/<policy name="([^"]+)" class="Machine"[^>]* key="([^"]+)"/g)];
    expect(names.map((m) => m[1]).sort()).toEqual(Object.keys(schema.properties).sort());
    for (const m of names) expect(`HKLM\\${m[2]}`).toBe(POLICY_LOCATIONS.win32);
  });

  it("number ranges in Group Policy are the schema's (the lock timeout cannot be set above 15 there either)", () => {
    for (const [key, p] of Object.entries(schema.properties).filter(([, p]) => p.type === 'integer')) {
      const m = new RegExp(`<decimal id="${key}" valueName="${key}" minValue="(\\d+)" maxValue="(\\d+)"`).exec(admx);
      expect(m, key).not.toBeNull();
      expect([Number(m![1]), Number(m![2])], key).toEqual([p.minimum, p.maximum]);
    }
    expect(admx).toMatch(/<decimal id="lockTimeoutMinutes" valueName="lockTimeoutMinutes" minValue="1" maxValue="15"/);
  });

  it('the registry values Group Policy writes from these templates are what the app reads and accepts', async () => {
    // What each ADMX element type writes: text -> REG_SZ, decimal -> REG_DWORD, multiText ->
    // REG_MULTI_SZ, an enabled/disabled policy -> REG_DWORD 1/0. Rendered as `reg query` prints it.
    const written: Record<string, [string, string]> = {
      serverUrl: ['REG_SZ', 'https://ehr-sync.clinic.example'],
      serverCertFingerprint: ['REG_SZ', 'AB:'.repeat(31) + 'AB'],
      breakGlassReasons: ['REG_MULTI_SZ', 'ETREAT\\0BTG'],
      autoUpdate: ['REG_DWORD', '0x0'],
    };
    for (const [key, p] of Object.entries(schema.properties)) {
      if (p.type === 'integer') written[key] = ['REG_DWORD', `0x${(p.maximum as number).toString(16)}`];
    }
    for (const key of Object.keys(written)) {
      const element = new RegExp(`(<(text|decimal|multiText) id="${key}")|(<policy name="${key}"[^>]*valueName="${key}">)`).exec(admx);
      expect(element, key).not.toBeNull();
      const kind = element![2] ?? 'boolean';
      expect({ text: 'REG_SZ', decimal: 'REG_DWORD', multiText: 'REG_MULTI_SZ', boolean: 'REG_DWORD' }[kind], key).toBe(written[key]![0]);
    }
    const stdout = ['', `HKEY_LOCAL_MACHINE\\${POLICY_LOCATIONS.win32.slice(5)}`, ...Object.entries(written).map(([k, [t, v]]) => `    ${k}    ${t}    ${v}`), ''].join('\r\n');
    const eff = await loadPolicy({ platform: 'win32', exec: async () => ({ code: 0, stdout }) });
    expect(eff.policy.lockTimeoutMinutes).toBe(15);
    expect(eff.policy.autoUpdate).toBe(false);
    expect(eff.policy.breakGlassReasons).toEqual(['ETREAT', 'BTG']);
  });

  it('the macOS profile carries a valid policy for the managed-preferences domain the app reads', async () => {
    const profile = readFileSync(path.join(root, 'assets/policy/org.clinic.ehr.mobileconfig'), 'utf8');
    const inner = /<key>PayloadContent<\/key>\s*<array>\s*<dict>([\s\S]*?)<\/dict>\s*<\/array>/.exec(profile)![1]!;
    // Just enough plist for the value types a policy has.
    const values: Record<string, unknown> = {};
    for (const m of inner.matchAll(/<key>([^<]+)<\/key>\s*(<string>([^<]*)<\/string>|<integer>(\d+)<\/integer>|<(true|false)\/>|<array>((?:<string>[^<]*<\/string>)*)<\/array>)/g)) {
      values[m[1]!] = m[3] ?? (m[4] !== undefined ? Number(m[4]) : m[5] !== undefined ? m[5] === 'true' : [...m[6]!.matchAll(/<string>([^<]*)<\/string>/g)].map((x) => x[1]));
    }
    expect(values.PayloadType).toBe(POLICY_LOCATIONS.darwin.replace(/^.*\//, '').replace(/\.plist$/, ''));
    expect(profile).toContain('<key>PayloadScope</key>\n  <string>System</string>');
    // The Mac reader gets these keys from plutil; Payload* bookkeeping is dropped before validation.
    const eff = await loadPolicy({ platform: 'darwin', stat: async () => ({ uid: 0, mode: 0o100644 }), exec: async () => ({ code: 0, stdout: JSON.stringify(values) }) });
    expect(Object.keys(eff.policy).sort()).toEqual(Object.keys(schema.properties).filter((k) => k !== 'autoUpdate').sort());
  });

  it('the example Linux policy is valid as shipped', () => {
    const example = JSON.parse(readFileSync(path.join(root, 'assets/policy/policy.example.json'), 'utf8')) as unknown;
    expect(PolicySchema.safeParse(example).success).toBe(true);
  });
});
