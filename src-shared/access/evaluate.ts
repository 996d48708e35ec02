/**
 * The one access evaluator. The workstation's API handlers and the sync server both call it, so a
 * decision taken offline is the decision the server would take online.
 *
 * Two separate questions, answered separately:
 * 1. May this role do this interaction on this resource type?     -> `rolesAllow`
 * 2. May this user see this patient at all?                        -> `patientAccess`
 * A request goes through only when both say yes.
 */
import { ROLE_DEFINITIONS, type Capability, type Role } from './roles';
import { parseScope, resourceMatchesFilters, type Interaction, type ParsedScope } from './scopes';

export interface AccessRequest {
  readonly resourceType: string;
  readonly interaction: Interaction;
  /** The resource being written (or read), needed by filtered scopes such as `?category=vital-signs`. */
  readonly resource?: unknown;
}

const parsedCache = new Map<string, ParsedScope | null>();
function parsed(scope: string): ParsedScope | null {
  let p = parsedCache.get(scope);
  if (p === undefined) {
    p = parseScope(scope);
    parsedCache.set(scope, p);
  }
  return p;
}

/** True when any scope grants the interaction on the type (and the resource matches its filters). */
export function scopesAllow(scopes: readonly string[], req: AccessRequest): boolean {
  return scopes.some((s) => {
    const p = parsed(s);
    if (!p) return false;
    if (p.resourceType !== '*' && p.resourceType !== req.resourceType) return false;
    if (!p.interactions.has(req.interaction)) return false;
    return resourceMatchesFilters(req.resource, p.filters);
  });
}

export function scopesOf(roles: readonly Role[]): string[] {
  return [...new Set(roles.flatMap((r) => ROLE_DEFINITIONS[r]?.scopes ?? []))];
}

export function rolesAllow(roles: readonly Role[], req: AccessRequest): boolean {
  return scopesAllow(scopesOf(roles), req);
}

export function hasCapability(roles: readonly Role[], capability: Capability): boolean {
  return roles.some((r) => ROLE_DEFINITIONS[r]?.capabilities.includes(capability) ?? false);
}

/** What the server said about the user's patients at the last online login (/v1/me). */
export interface CareTeamSnapshot {
  /** Patients whose care team includes the user. */
  readonly careTeam: readonly string[];
  /** Restricted records (VIP, staff): same rule, but breaking the glass on one is high severity. */
  readonly restricted: readonly string[];
  /** Explicit server-side grants by patient id (e.g. break-glass granted online, still running). */
  readonly grants: readonly string[];
}

export type PatientAccess = 'care-team' | 'grant' | 'break-glass' | 'restricted' | 'none';

/**
 * Why (or why not) the user may open this patient's chart. The rule is the server's: the care
 * team, or a grant, or an active break-glass for exactly this patient. `restricted`/`none` both
 * mean "break the glass first"; `restricted` lets the client show the restriction.
 */
export function patientAccess(snapshot: CareTeamSnapshot, patientId: string, breakGlassActive: boolean): PatientAccess {
  if (snapshot.careTeam.includes(patientId)) return 'care-team';
  if (snapshot.grants.includes(patientId)) return 'grant';
  if (breakGlassActive) return 'break-glass';
  return snapshot.restricted.includes(patientId) ? 'restricted' : 'none';
}

export function isAccessible(access: PatientAccess): boolean {
  return access === 'grant' || access === 'care-team' || access === 'break-glass';
}

/**
 * Could any of the roles' scopes ever allow this interaction (on one of these types), filters aside? The coarse check a handler makes before it has validated input;
 * the exact check, with the resource, follows once the input is parsed.
 */
export function rolesMayEver(roles: readonly Role[], interaction: Interaction, resourceTypes: readonly string[]): boolean {
  return scopesOf(roles).some((s) => {
    const p = parsed(s);
    if (!p || !p.interactions.has(interaction)) return false;
    return p.resourceType === '*' || resourceTypes.includes(p.resourceType);
  });
}
