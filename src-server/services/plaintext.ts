/**
 * Recognises a push that carries plaintext instead of envelopes — a FHIR resource, or an envelope
 * with clinical fields beside it — so the refusal can be audited and raised to the privacy officer
 * as what it is. Only key names are inspected; no value is read, kept or logged.
 */
const FHIR_KEYS = new Set([
  'resource', 'name', 'birthDate', 'gender', 'identifier', 'telecom', 'address', 'subject', 'patient', 'code',
  'valueQuantity', 'valueString', 'text', 'note', 'clinicalStatus', 'medicationCodeableConcept', 'reaction', 'meta',
]);

export function looksLikePlaintext(body: unknown, depth = 0): boolean {
  if (depth > 6 || body === null || typeof body !== 'object') return false;
  if (Array.isArray(body)) return body.slice(0, 1000).some((b) => looksLikePlaintext(b, depth + 1));
  const keys = Object.keys(body);
  const obj = body as Record<string, unknown>;
  if (typeof obj.resourceType === 'string' && !('ct' in obj)) return true;
  if (keys.some((k) => FHIR_KEYS.has(k))) return true;
  return keys.some((k) => looksLikePlaintext(obj[k], depth + 1));
}

/**
 * An "envelope" whose ciphertext is really base64url of a JSON resource (a client that forgot to
 * seal). Decodes only the first bytes; random ciphertext starts with this 15-byte text with
 * probability ~2^-120, so no real envelope is ever refused.
 */
const PLAIN_PREFIXES = ['{"resourceType"', '{ "resourceType'].map((p) => Buffer.from(p));
export function ciphertextLooksPlain(ct: string): boolean {
  const head = Buffer.from(ct.slice(0, 24), 'base64url');
  return PLAIN_PREFIXES.some((p) => head.subarray(0, p.length).equals(p));
}
