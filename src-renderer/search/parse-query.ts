/**
 * What the clinician typed in the one search box -> the patients.search input. A date (ISO or
 * dd/mm/yyyy or dd.mm.yyyy) searches birth date; anything with a digit and no space looks like an
 * MRN; everything else is a name prefix. Returns null while there is nothing worth asking yet.
 */
import type { ChannelInput } from '../../src-shared/api/channels';
import { LIMITS } from '../../src-shared/api/schemas';

export type SearchInput = ChannelInput<'patients.search'>;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DMY_DATE = /^(\d{1,2})[./](\d{1,2})[./](\d{4})$/;

function validIsoDate(y: string, m: string, d: string): string | null {
  const iso = `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const t = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(iso) ? iso : null;
}

export function parseSearchQuery(raw: string, limit = 25): SearchInput | null {
  const q = raw.trim().slice(0, LIMITS.searchChars);
  if (q.length < 2) return null;
  const iso = ISO_DATE.exec(q);
  if (iso) {
    const date = validIsoDate(iso[1]!, iso[2]!, iso[3]!);
    return date ? { birthDate: date, limit } : null;
  }
  const dmy = DMY_DATE.exec(q);
  if (dmy) {
    const date = validIsoDate(dmy[3]!, dmy[2]!, dmy[1]!);
    return date ? { birthDate: date, limit } : null;
  }
  if (/\d/.test(q) && !/\s/.test(q)) return { mrn: q.slice(0, LIMITS.idChars), limit };
  return { name: q, limit };
}
