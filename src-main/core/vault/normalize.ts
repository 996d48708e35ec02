/**
 * Search normalisation for names and MRNs: what a clerk types and what is stored must meet.
 * Folding = NFKD, combining marks removed, lower case ("Núñez" -> "nunez"). A name part is split on
 * anything that is not a letter or digit, and the joined form of a hyphenated or apostrophised part
 * is kept too: "Zoë O'Brien-Núñez" -> zoe, o, brien, nunez, obriennunez — so "brien" and "nunez" find
 * her, and so does "obrien" (a prefix of the joined form).
 */
export function foldText(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/** Distinct normalised tokens of the given name parts. */
export function nameTokens(...parts: string[]): string[] {
  const tokens = new Set<string>();
  for (const part of parts) {
    for (const word of foldText(part).split(/\s+/)) {
      const pieces = word.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
      for (const piece of pieces) tokens.add(piece);
      if (pieces.length > 1) tokens.add(pieces.join(''));
    }
  }
  return [...tokens];
}

/** Query tokens: the same folding, split on anything that is not a letter or digit. */
export function queryTokens(query: string): string[] {
  return [...new Set(foldText(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean))];
}

export function normalizeMrn(mrn: string): string {
  return mrn.trim().toUpperCase();
}

/** The smallest string greater than every string starting with `prefix` (for range scans). */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
