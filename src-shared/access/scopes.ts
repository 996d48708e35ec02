/**
 * SMART App Launch v2 scope strings, parsed: `<context>/<Type|*>.<cruds>[?param=value&...]`.
 * A filtered scope (`?category=vital-signs`) only grants its interactions on a resource that
 * matches every filter, so it can never grant anything when there is no resource to look at.
 */

export const INTERACTIONS = ['c', 'r', 'u', 'd', 's'] as const;
/** c = create, r = read, u = update, d = delete, s = search (SMART v2 order). */
export type Interaction = (typeof INTERACTIONS)[number];

export type ScopeContext = 'patient' | 'user' | 'system';

export interface ParsedScope {
  readonly context: ScopeContext;
  /** A FHIR resource type, or '*' for every type. */
  readonly resourceType: string;
  readonly interactions: ReadonlySet<Interaction>;
  /** Search-parameter filters, each `name -> token` (token is `code` or `system|code`). */
  readonly filters: ReadonlyArray<readonly [string, string]>;
}

const SCOPE_RE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.(c?r?u?d?s?)(?:\?(.+))?$/;

/** Parses a scope string; returns null for anything malformed (a bad scope grants nothing). */
export function parseScope(scope: string): ParsedScope | null {
  const m = SCOPE_RE.exec(scope);
  if (!m || !m[3]) return null;
  const filters: Array<readonly [string, string]> = [];
  if (m[4]) {
    for (const part of m[4].split('&')) {
      const eq = part.indexOf('=');
      if (eq <= 0 || eq === part.length - 1) return null;
      filters.push([part.slice(0, eq), part.slice(eq + 1)] as const);
    }
  }
  return {
    context: m[1] as ScopeContext,
    resourceType: m[2] as string,
    interactions: new Set(m[3].split('') as Interaction[]),
    filters,
  };
}

interface Coding {
  system?: unknown;
  code?: unknown;
}

/** The codings found under a search parameter of the same name as a resource element. */
function codingsOf(resource: Record<string, unknown>, param: string): Coding[] {
  const value = resource[param];
  const concepts = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const out: Coding[] = [];
  for (const c of concepts) {
    if (c && typeof c === 'object') {
      const coding = (c as { coding?: unknown }).coding;
      if (Array.isArray(coding)) out.push(...(coding.filter((x) => x && typeof x === 'object') as Coding[]));
    }
  }
  return out;
}

/** Token match in FHIR search style: `code` matches any system, `system|code` matches both. */
function tokenMatches(coding: Coding, token: string): boolean {
  const bar = token.indexOf('|');
  if (bar < 0) return coding.code === token;
  return coding.system === token.slice(0, bar) && coding.code === token.slice(bar + 1);
}

export function resourceMatchesFilters(resource: unknown, filters: ParsedScope['filters']): boolean {
  if (filters.length === 0) return true;
  if (!resource || typeof resource !== 'object') return false;
  const r = resource as Record<string, unknown>;
  return filters.every(([param, token]) => codingsOf(r, param).some((c) => tokenMatches(c, token)));
}
