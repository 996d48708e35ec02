/**
 * Group Policy templates (ADMX + en-US ADML) and an example Linux policy, generated from the policy
 * schema itself (src-shared/policy.ts), so what IT imports into Group Policy always matches what the
 * app validates: same keys, same ranges, same registry key and value types as the reader expects
 * (REG_SZ text, REG_DWORD numbers and switches, REG_MULTI_SZ lists).
 *
 * The files live in assets/policy/; test/shell/policy-templates.test.ts fails when they are stale.
 * Regenerate: npx tsx src-main/core/policy/templates.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PolicySchema, type Policy } from '../../../src-shared/policy';
import { POLICY_LOCATIONS } from './locations';

/** What Group Policy editors show. Typed by the schema's keys: a new key does not compile without text. */
export const POLICY_TEXT: Record<keyof Policy, { name: string; explain: string; label: string }> = {
  serverUrl: {
    name: 'Sync server URL',
    label: 'https URL:',
    explain: 'The https URL of the Clinic EHR sync server, e.g. https://ehr-sync.clinic.example. Required.',
  },
  serverCertFingerprint: {
    name: 'Pinned server certificate (SHA-256)',
    label: 'SHA-256 fingerprint:',
    explain:
      "SHA-256 fingerprint of the sync server's certificate (64 hex digits, colons allowed). The app connects only to a server presenting this certificate. Required.",
  },
  lockTimeoutMinutes: {
    name: 'Inactivity lock (minutes)',
    label: 'Minutes:',
    explain: 'The session locks after this many minutes without activity, and when the OS screen locks or the machine suspends. At most 15. Users may only choose a shorter time.',
  },
  lockWarningSeconds: {
    name: 'Lock warning (seconds)',
    label: 'Seconds:',
    explain: 'How long before the inactivity lock a warning is shown.',
  },
  offlineLoginDays: {
    name: 'Offline login window (days)',
    label: 'Days:',
    explain: "How long after a user's last online login they may still log in without the server. 0 disables offline login.",
  },
  maxFailedLogins: {
    name: 'Failed logins before lockout',
    label: 'Attempts:',
    explain: 'Failed logins after which the account locks on this workstation until an admin unlocks it.',
  },
  breakGlassMinutes: {
    name: 'Break-glass access duration (minutes)',
    label: 'Minutes:',
    explain: 'How long emergency access to a patient outside the care team lasts.',
  },
  breakGlassReasons: {
    name: 'Allowed break-glass reasons',
    label: 'FHIR ActReason codes, one per line:',
    explain: 'The reasons users may give for emergency access. One code per line from: ETREAT, BTG, ERTREAT, CLINTRCH, PATRQT, TREAT.',
  },
  breakGlassMinJustificationChars: {
    name: 'Break-glass justification (minimum characters)',
    label: 'Characters:',
    explain: 'The minimum length of the free-text justification for emergency access.',
  },
  sharedWorkstationUsers: {
    name: 'Shared workstation: users whose patients stay cached',
    label: 'Users:',
    explain:
      "How many users' care-team patients the workstation keeps cached at once (the most recent sign-ins within the offline login window), so switching user needs no new download. Each user still sees only their own patients. 1 keeps one user's patients only.",
  },
  videoVisits: {
    name: 'Video visits',
    label: '',
    explain: 'Enabled or not configured: physicians may start video visits from a chart (camera and microphone are asked for only in the visit view). Disabled: no video visit on this workstation.',
  },
  visitRecording: {
    name: 'Video visit recording',
    label: '',
    explain: "Enabled or not configured: a visit may be recorded when the patient consents (recordings are encrypted with the patient's key). Disabled: visits are never recorded on this workstation.",
  },
  autoUpdate: {
    name: 'Automatic updates',
    label: '',
    explain: 'Enabled or not configured: the app checks for signed updates. Disabled: it never does (deploy every version yourself; required for MSI deployments).',
  },
};

interface JsonProp {
  type?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  items?: { enum?: string[] };
}

function schemaProps(): { props: Record<string, JsonProp>; required: Set<string> } {
  const js = z.toJSONSchema(PolicySchema, { io: 'input' }) as { properties: Record<string, JsonProp>; required?: string[] };
  return { props: js.properties, required: new Set(js.required ?? []) };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** The key under HKLM, as ADMX wants it (no hive). */
const REG_KEY = POLICY_LOCATIONS.win32.replace(/^HKLM\\/, '');

export function renderAdmx(): string {
  const { props, required } = schemaProps();
  const policies = Object.entries(props).map(([key, p]) => {
    const head = `    <policy name="${key}" class="Machine" displayName="$(string.${key})" explainText="$(string.${key}_Explain)" key="${esc(REG_KEY)}"`;
    const common = `      <parentCategory ref="ClinicEHR" />\n      <supportedOn ref="SUPPORTED_ClinicEHR" />`;
    if (p.type === 'boolean') {
      return `${head} valueName="${key}">\n${common}\n      <enabledValue><decimal value="1" /></enabledValue>\n      <disabledValue><decimal value="0" /></disabledValue>\n    </policy>`;
    }
    let element: string;
    if (p.type === 'integer') element = `<decimal id="${key}" valueName="${key}" minValue="${p.minimum ?? 0}" maxValue="${p.maximum ?? 4294967295}" required="true" />`;
    else if (p.type === 'array') element = `<multiText id="${key}" valueName="${key}" required="true" />`;
    else element = `<text id="${key}" valueName="${key}" required="${required.has(key)}" maxLength="2048" />`;
    return `${head} presentation="$(presentation.${key})">\n${common}\n      <elements>\n        ${element}\n      </elements>\n    </policy>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<!-- Generated from src-shared/policy.ts by src-main/core/policy/templates.ts: do not edit by hand. -->
<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">
  <policyNamespaces>
    <target prefix="clinicehr" namespace="Clinic.Policies.ClinicEHR" />
  </policyNamespaces>
  <resources minRequiredRevision="1.0" />
  <supportedOn>
    <definitions>
      <definition name="SUPPORTED_ClinicEHR" displayName="$(string.SUPPORTED_ClinicEHR)" />
    </definitions>
  </supportedOn>
  <categories>
    <category name="ClinicEHR" displayName="$(string.ClinicEHR)" />
  </categories>
  <policies>
${policies.join('\n')}
  </policies>
</policyDefinitions>
`;
}

export function renderAdml(): string {
  const { props } = schemaProps();
  const keys = Object.keys(props) as Array<keyof Policy>;
  const strings = keys
    .flatMap((k) => [`      <string id="${k}">${esc(POLICY_TEXT[k].name)}</string>`, `      <string id="${k}_Explain">${esc(POLICY_TEXT[k].explain)}</string>`])
    .join('\n');
  const presentations = keys
    .filter((k) => props[k]!.type !== 'boolean')
    .map((k) => {
      const p = props[k]!;
      const label = esc(POLICY_TEXT[k].label);
      let box: string;
      if (p.type === 'integer') box = `<decimalTextBox refId="${k}" defaultValue="${Number(p.default ?? p.minimum ?? 0)}">${label}</decimalTextBox>`;
      else if (p.type === 'array') box = `<multiTextBox refId="${k}">${label}</multiTextBox>`;
      else box = `<textBox refId="${k}"><label>${label}</label></textBox>`;
      return `      <presentation id="${k}">\n        ${box}\n      </presentation>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<!-- Generated from src-shared/policy.ts by src-main/core/policy/templates.ts: do not edit by hand. -->
<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">
  <displayName>Clinic EHR</displayName>
  <description>Machine-wide policy for the Clinic EHR desktop app (docs/it-admin.md).</description>
  <resources>
    <stringTable>
      <string id="ClinicEHR">Clinic EHR</string>
      <string id="SUPPORTED_ClinicEHR">Clinic EHR desktop app</string>
${strings}
    </stringTable>
    <presentationTable>
${presentations}
    </presentationTable>
  </resources>
</policyDefinitionResources>
`;
}

/** A complete Linux policy with every default spelled out and placeholders for the two required keys. */
export function renderExampleJson(): string {
  const example = PolicySchema.parse({
    serverUrl: 'https://ehr-sync.clinic.example',
    serverCertFingerprint: '00'.repeat(32),
  });
  return JSON.stringify(example, null, 2) + '\n';
}

/** A plist value for one policy value (strings, integers, string lists, booleans: all the schema has). */
function plistValue(v: unknown): string {
  if (typeof v === 'boolean') return v ? '<true/>' : '<false/>';
  if (typeof v === 'number') return `<integer>${v}</integer>`;
  if (Array.isArray(v)) return `<array>${v.map((x) => `<string>${esc(String(x))}</string>`).join('')}</array>`;
  return `<string>${esc(String(v))}</string>`;
}

/**
 * An example macOS configuration profile (Custom Settings payload for the app's preference domain,
 * system scope). IT sets the URL and fingerprint, gives it fresh PayloadUUIDs if it keeps several
 * variants, and pushes it with the MDM before the app.
 */
export function renderMobileconfig(domain = POLICY_LOCATIONS.darwin.replace(/^.*\//, '').replace(/\.plist$/, '')): string {
  const example = JSON.parse(renderExampleJson()) as Record<string, unknown>;
  const settings = Object.entries(example)
    .map(([k, v]) => `      <key>${k}</key>\n      ${plistValue(v)}`)
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Generated from src-shared/policy.ts by src-main/core/policy/templates.ts. Set serverUrl and
     serverCertFingerprint, then deliver with your MDM (system scope) before installing the app. -->
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>PayloadType</key>
      <string>${domain}</string>
      <key>PayloadIdentifier</key>
      <string>${domain}.policy.settings</string>
      <key>PayloadUUID</key>
      <string>7B1D3C52-5E0F-4B7A-9C2E-6A1F0D8E4B31</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
      <key>PayloadDisplayName</key>
      <string>Clinic EHR settings</string>
${settings}
    </dict>
  </array>
  <key>PayloadDisplayName</key>
  <string>Clinic EHR IT policy</string>
  <key>PayloadIdentifier</key>
  <string>${domain}.policy</string>
  <key>PayloadScope</key>
  <string>System</string>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>2F6A9E14-8C3B-4D5E-A7F1-0B9C2D4E6F80</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
`;
}

export const TEMPLATE_FILES = {
  'assets/policy/ClinicEHR.admx': renderAdmx,
  'assets/policy/en-US/ClinicEHR.adml': renderAdml,
  'assets/policy/policy.example.json': renderExampleJson,
  'assets/policy/org.clinic.ehr.mobileconfig': () => renderMobileconfig(),
} as const;

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  for (const [file, render] of Object.entries(TEMPLATE_FILES)) {
    const out = path.join(process.cwd(), file);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, render());
    console.log(`wrote ${file}`);
  }
}
