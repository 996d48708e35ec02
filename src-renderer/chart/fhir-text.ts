/** Small readers of FHIR datatypes for display. Pure, so the chart model is testable under Node. */
import type { CodeableConcept, HumanName, Identifier, Patient } from '@medplum/fhirtypes';

export function conceptText(c: CodeableConcept | undefined): string {
  if (!c) return '';
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code ?? '';
}

export function nameText(names: HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [n.family ? `${n.family.toUpperCase()},` : '', ...(n.given ?? [])].filter(Boolean).join(' ');
}

/** The medical record number: the identifier typed MR, else one whose system mentions "mrn". */
export function mrnOf(p: Pick<Patient, 'identifier'>): string {
  const ids: Identifier[] = p.identifier ?? [];
  const mr = ids.find((i) => i.type?.coding?.some((c) => c.code === 'MR')) ?? ids.find((i) => /mrn/i.test(i.system ?? ''));
  return mr?.value ?? ids[0]?.value ?? '';
}

/** UTF-8 text from a base64 attachment (atob + TextDecoder: both in browsers and Node 20). */
export function decodeBase64Text(data: string): string {
  const bin = atob(data);
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function encodeBase64Text(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** "2026-11-25T14:03:00Z" -> "2026-11-25 14:03" (local time), dates stay dates. */
export function shortDateTime(iso: string | undefined): string {
  if (!iso) return '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
