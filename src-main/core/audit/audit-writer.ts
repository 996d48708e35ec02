/**
 * The one audit writer: it decides WHAT is recorded about each access (type, action, severity,
 * which ids), and hands the entry to the vault's append-only log, which chains and signs it.
 * Nothing else in main builds audit entries, so coverage is reviewable in one file.
 *
 * Entries carry ids and codes only. Record contents enter as SHA-256 hashes (before/after).
 */
import { createHash, randomUUID } from 'node:crypto';
import { LIMITS } from '../../../src-shared/sync/common';
import { canonicalJson, type AuditAction, type AuditEntry, type AuditEntryInput, type AuditOutcome, type AuditSeverity, type AuditType } from '../../../src-shared/audit';

/** Where entries go: the vault's audit repository (append assigns seq/prevHash/hash; checkpoints are signed there). */
export interface AuditSink {
  append(entry: AuditEntryInput): AuditEntry;
  /** Several entries in one transaction (the vault's audit repository has it). */
  appendMany?(entries: readonly AuditEntryInput[]): AuditEntry[];
}

/** Who acted: the session's user, or (before login) only what was typed as an id. */
export interface AuditActor {
  userId: string | null;
  role: string | null;
  /** Ties the entries of one session (or one request) together. */
  correlationId: string;
}

export interface AuditEvent {
  type: AuditType;
  outcome?: AuditOutcome;
  patientId?: string | null;
  resourceRefs?: string[];
  beforeHash?: string | null;
  afterHash?: string | null;
  reasonCode?: string | null;
  /** Overrides the type's default severity (e.g. break-glass on a restricted patient stays high). */
  severity?: AuditSeverity;
}

/** FHIR AuditEvent.action for each type (C/R/U/D/E). */
const ACTION_OF: Record<AuditType, AuditAction> = {
  login: 'E',
  logout: 'E',
  'login-failed': 'E',
  lock: 'E',
  unlock: 'E',
  read: 'R',
  search: 'E',
  create: 'C',
  update: 'U',
  delete: 'D',
  print: 'R',
  export: 'R',
  'break-glass-start': 'E',
  'break-glass-end': 'E',
  'key-access': 'E',
  'access-denied': 'E',
  'sync-push': 'E',
  'sync-pull': 'E',
  'conflict-resolved': 'U',
  'vault-rekey': 'E',
  'device-enrolled': 'E',
  'privacy-review': 'E',
  'visit-start': 'E',
  'visit-end': 'E',
  'visit-consent': 'E',
  'visit-transport': 'E',
  'recording-start': 'C',
  'recording-view': 'R',
  'recording-download': 'R',
  'recording-delete': 'D',
};

/** Default severity: emergency overrides high (DICOM "Emergency Override"), refusals medium. */
function defaultSeverity(type: AuditType, outcome: AuditOutcome): AuditSeverity {
  if (type === 'break-glass-start' || type === 'break-glass-end') return 'high';
  if (type === 'login-failed' || type === 'access-denied' || type === 'privacy-review' || outcome === 'denied') return 'medium';
  if (type === 'export' || type === 'print' || type === 'delete' || type === 'key-access') return 'low';
  // A recording leaving as a file or erased is as weighty as an export or a delete.
  if (type === 'recording-download' || type === 'recording-delete') return 'low';
  return 'info';
}

/** SHA-256 of a record's canonical JSON: what before/after carry instead of the record. */
export function recordHash(resource: unknown): string {
  return createHash('sha256').update(canonicalJson(resource)).digest('hex');
}

export class AuditWriter {
  constructor(
    private readonly sink: AuditSink,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records one event. An event naming more records than one entry may carry (the server takes
   * LIMITS.auditRefsPerEntry) is written as consecutive entries with the same correlation id, each
   * naming its share, in one transaction: every record stays accounted for and every entry is one
   * the server accepts. Returns the first entry.
   */
  record(actor: AuditActor, e: AuditEvent): AuditEntry {
    const refs = e.resourceRefs ?? [];
    const per = LIMITS.auditRefsPerEntry;
    if (refs.length <= per) return this.sink.append(this.input(actor, e));
    const inputs: AuditEntryInput[] = [];
    for (let i = 0; i < refs.length; i += per) inputs.push(this.input(actor, { ...e, resourceRefs: refs.slice(i, i + per) }));
    if (this.sink.appendMany) return this.sink.appendMany(inputs)[0] as AuditEntry;
    return inputs.map((input) => this.sink.append(input))[0] as AuditEntry;
  }

  private input(actor: AuditActor, e: AuditEvent): AuditEntryInput {
    const outcome = e.outcome ?? 'success';
    return {
      at: new Date(this.now()).toISOString(),
      action: ACTION_OF[e.type],
      type: e.type,
      outcome,
      severity: e.severity ?? defaultSeverity(e.type, outcome),
      userId: actor.userId,
      role: actor.role,
      patientId: e.patientId ?? null,
      resourceRefs: e.resourceRefs ?? [],
      beforeHash: e.beforeHash ?? null,
      afterHash: e.afterHash ?? null,
      correlationId: actor.correlationId,
      reasonCode: e.reasonCode ?? null,
    };
  }

  /**
   * A search that returned patients: one entry per patient returned (IHE BALP), all under the same
   * correlation id, plus one entry for the query itself when nothing came back.
   */
  searchResults(actor: AuditActor, patientIds: readonly string[]): AuditEntry[] {
    const correlated = { ...actor, correlationId: actor.correlationId || randomUUID() };
    if (patientIds.length === 0) return [this.record(correlated, { type: 'search', resourceRefs: [] })];
    return patientIds.map((id) => this.record(correlated, { type: 'search', patientId: id, resourceRefs: [`Patient/${id}`] }));
  }
}
