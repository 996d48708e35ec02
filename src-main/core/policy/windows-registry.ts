/**
 * Parses the output of `reg query <key>` into plain values. REG_DWORD/REG_QWORD become numbers,
 * REG_SZ/REG_EXPAND_SZ strings, REG_MULTI_SZ arrays (reg prints them joined by a literal `\0`).
 * Other types (REG_BINARY, ...) are kept as a marker string so validation names the key.
 */
const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

export function parseRegQuery(output: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const rawLine of output.split(/\r?\n/)) {
    const m = VALUE_LINE.exec(rawLine);
    if (!m) continue;
    const [, name, type, data = ''] = m as unknown as [string, string, string, string | undefined];
    if (name === '(Default)') continue;
    switch (type) {
      case 'REG_DWORD':
      case 'REG_QWORD':
        values[name] = Number.parseInt(data, data.startsWith('0x') ? 16 : 10);
        break;
      case 'REG_SZ':
      case 'REG_EXPAND_SZ':
        values[name] = data;
        break;
      case 'REG_MULTI_SZ':
        values[name] = data === '' ? [] : data.split('\\0').filter((s) => s !== '');
        break;
      default:
        values[name] = `<unsupported registry type ${type}>`;
    }
  }
  return values;
}

/**
 * The registry has no boolean type: ADMX templates store switches as REG_DWORD 0/1. For the policy
 * keys that are booleans, 0 and 1 become false and true; anything else is left for validation to refuse.
 */
export const BOOLEAN_POLICY_KEYS: readonly string[] = ['autoUpdate'];

export function coerceRegistryBooleans(values: Record<string, unknown>): Record<string, unknown> {
  const out = { ...values };
  for (const key of BOOLEAN_POLICY_KEYS) {
    if (out[key] === 0) out[key] = false;
    else if (out[key] === 1) out[key] = true;
  }
  return out;
}
