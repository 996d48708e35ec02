/**
 * A real workstation (real SQLCipher vault, real audit chain, real handlers) with fakes only where
 * speed or control needs them: an in-memory KeyStore, a FakeClock, a fake AuthServer, and a cheap
 * Argon2id cost. Canary PHI is seeded so tests can assert it never leaks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import type { Role } from '../../src-shared/access';
import type { ApiResult, ChartResource, Channel, ChannelInput, ChannelOutput, ConflictSummary, SyncStatus } from '../../src-shared/api';
import type { AuditEntry } from '../../src-shared/audit';
import { EhrError, ErrorCode } from '../../src-shared/errors';
import type { Policy } from '../../src-shared/policy';
import type { AuthServer, ServerMe, ServerTokens } from '../../src-main/core/auth';
import type { PrivacyPort } from '../../src-main/core/access';
import type { DispositionRequest, ReviewItem, ReviewSubject } from '../../src-shared/sync';
import { createMemoryKeyStore, type MemoryKeyStore } from '../../src-main/core/keychain';
import { FakeClock } from '../../src-main/core/session';
import { createWorkstation, type Workstation, type WorkstationOptions, type WorkstationSync } from '../../src-main/core/workstation';

export const CANARY = {
  given: 'Zebediah',
  family: 'Canarywhistle',
  mrn: 'CANARY-MRN-0042',
  birthDate: '1961-04-17',
  note: 'Canary note: Zebediah Canarywhistle reports chest pain',
} as const;
/** Strings that must never appear in an error, a log line, or the vault file. */
export const CANARY_STRINGS = [CANARY.given, CANARY.family, CANARY.mrn, CANARY.birthDate, 'chest pain'];

export const PASSWORD = 'correct horse battery staple';

export interface FakeUser {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  careTeam: string[];
}

/** p-own: on every clinician's care team; p-other: nobody's; p-vip: restricted, on nobody's team. */
export const USERS: FakeUser[] = [
  { id: 'u-nurse', username: 'nina', displayName: 'Nina Nurse', roles: ['nurse'], careTeam: ['p-own', 'p-canary'] },
  { id: 'u-phys', username: 'phil', displayName: 'Phil Physician', roles: ['physician'], careTeam: ['p-own', 'p-canary'] },
  { id: 'u-phys2', username: 'paula', displayName: 'Paula Physician', roles: ['physician'], careTeam: ['p-other'] },
  { id: 'u-bill', username: 'bill', displayName: 'Bill Billing', roles: ['billing'], careTeam: ['p-own', 'p-canary'] },
  { id: 'u-priv', username: 'pat', displayName: 'Pat Privacy', roles: ['privacy_officer'], careTeam: [] },
  { id: 'u-admin', username: 'ada', displayName: 'Ada Admin', roles: ['admin'], careTeam: [] },
  { id: 'u-spare', username: 'sam', displayName: 'Sam Spare', roles: ['nurse'], careTeam: [] },
];

export class FakeAuthServer implements AuthServer {
  online = true;
  calls: string[] = [];
  constructor(private readonly users: FakeUser[] = USERS) {}

  private reachable(): void {
    if (!this.online) throw new EhrError(ErrorCode.OFFLINE, 'The sync server cannot be reached.');
  }

  private readonly grantCount = new Map<string, number>();

  private byToken(t: { accessToken: string }): FakeUser {
    const u = this.users.find((x) => `access-${x.id}` === t.accessToken);
    if (!u) throw new EhrError(ErrorCode.UNAUTHENTICATED, 'Not signed in.');
    return u;
  }

  async login(username: string, password: string) {
    this.calls.push('login');
    this.reachable();
    const u = this.users.find((x) => x.username === username);
    if (!u || password !== PASSWORD) throw new EhrError(ErrorCode.UNAUTHENTICATED, 'Wrong username or password.');
    return {
      user: { id: u.id, username: u.username, displayName: u.displayName, roles: u.roles },
      tokens: { accessToken: `access-${u.id}`, refreshToken: `refresh-${u.id}` },
    };
  }

  async me(tokens: { accessToken: string }): Promise<ServerMe> {
    this.reachable();
    const u = this.byToken(tokens);
    return { user: { id: u.id, username: u.username, displayName: u.displayName, roles: u.roles }, careTeamPatientIds: u.careTeam, restrictedPatientIds: ['p-vip'], grants: [] };
  }

  async breakGlass(tokens: { accessToken: string }, req: { patientId: string; minutes: number; reason: string }) {
    this.calls.push('breakGlass');
    this.reachable();
    this.byToken(tokens);
    if (!['p-own', 'p-canary', 'p-other', 'p-vip'].includes(req.patientId)) throw new EhrError(ErrorCode.NOT_FOUND, 'No such patient.');
    const start = Date.now();
    // Each grant has its own id, as on the real server (an ended grant never comes back).
    const n = (this.grantCount.get(req.patientId) ?? 0) + 1;
    this.grantCount.set(req.patientId, n);
    return { id: n === 1 ? `srv-grant-${req.patientId}` : `srv-grant-${req.patientId}-${n}`, patientId: req.patientId, startsAt: new Date(start).toISOString(), expiresAt: new Date(start + req.minutes * 60_000).toISOString() };
  }

  async logout(): Promise<void> {
    this.calls.push('logout');
  }
}

export const vitals = (patientId: string, value = 72): ChartResource =>
  ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patientId}` },
    valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  }) as ChartResource;

export const note = (patientId: string, text: string = CANARY.note): Resource =>
  ({
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: 'http://loinc.org', code: '11506-3', display: 'Progress note' }] },
    subject: { reference: `Patient/${patientId}` },
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(text).toString('base64') } }],
  }) as Resource;

/** A sync engine stand-in with one conflict in a care-team chart and one in another clinician's. */
export class FakeSync implements WorkstationSync {
  resolved: string[] = [];
  private readonly status0: SyncStatus = { state: 'idle', pendingMutations: 0, conflicts: 2, lastSyncAt: null };
  status(): SyncStatus {
    return this.status0;
  }
  async syncNow(): Promise<SyncStatus> {
    return this.status0;
  }
  conflicts(): ConflictSummary[] {
    return ['p-own', 'p-other']
      .map((pid): ConflictSummary => ({
        conflictId: `c-${pid}`, patientId: pid, recordId: `obs-${pid}`, resourceType: 'Observation', localVersion: 1, serverVersion: 2,
        mine: { resource: { ...vitals(pid, 80), id: `obs-${pid}` }, version: 1, authorUserId: 'u-phys', deviceId: 'dev-here', at: '2026-01-01T10:00:00.000Z' },
        theirs: { resource: { ...vitals(pid, 90), id: `obs-${pid}` }, version: 2, authorUserId: 'u-phys2', deviceId: 'dev-there', at: '2026-01-01T10:05:00.000Z' },
      }))
      .filter((c) => !this.resolved.includes(c.conflictId));
  }
  async resolveConflict(id: string): Promise<SyncStatus> {
    this.resolved.push(id);
    return this.status0;
  }
}

/** The server's review queue stand-in: two items (one per patient), and what was asked of it. */
export class FakePrivacy implements PrivacyPort {
  calls: Array<[string, string]> = [];
  readonly item = (id: string, patientId: string): ReviewItem => ({
    subject: 'break-glass', id, alertKind: 'break-glass', severity: 'high', userId: 'u-phys2', patientId, raisedAt: '2026-01-01T10:00:00.000Z',
    reason: 'ETREAT', justification: 'Collapsed in the corridor', startsAt: '2026-01-01T10:00:00.000Z', endsAt: '2026-01-01T11:00:00.000Z',
    durationMinutes: 60, userStatus: 'active', detail: {}, dispositions: [],
  });
  private as(tokens: ServerTokens, what: string): void {
    this.calls.push([what, tokens.accessToken]);
  }
  async queue(tokens: ServerTokens) {
    this.as(tokens, 'queue');
    return [this.item('g-own', 'p-own'), this.item('g-other', 'p-other'), this.item('g-other-2', 'p-other')];
  }
  async episode(tokens: ServerTokens, _s: ReviewSubject, id: string) {
    this.as(tokens, 'episode');
    return { item: this.item(id, 'p-other'), reads: [{ source: 'device' as const, at: '2026-01-01T10:01:00.000Z', type: 'read', action: 'R', deviceId: 'dev-x', resourceRefs: ['Observation/o1'] }] };
  }
  async dispose(tokens: ServerTokens, req: DispositionRequest) {
    this.as(tokens, 'dispose');
    return { ...this.item(req.id, 'p-other'), dispositions: [{ disposition: req.disposition, note: req.note, reviewerId: 'u-priv', at: '2026-01-02T09:00:00.000Z' }] };
  }
  async exportEpisode(tokens: ServerTokens) {
    this.as(tokens, 'export');
    return { resourceType: 'Bundle' as const, type: 'collection' as const, entry: [] };
  }
  async setAccount(tokens: ServerTokens, userId: string, action: 'suspend' | 'reinstate') {
    this.as(tokens, action);
    return { userId, status: action === 'suspend' ? 'suspended' : 'active' };
  }
  async recordingAccess(tokens: ServerTokens, filter: { patientId?: string | undefined }) {
    this.as(tokens, 'recordingAccess');
    const all = [
      { recordingId: 'rec-1', patientId: 'p-own', userId: 'u-phys', action: 'record' as const, at: '2026-01-01T10:00:00.000Z', deviceId: 'dev-x' },
      { recordingId: 'rec-1', patientId: 'p-own', userId: 'u-phys', action: 'view' as const, at: '2026-01-01T11:00:00.000Z', deviceId: 'dev-x' },
      { recordingId: 'rec-2', patientId: 'p-other', userId: 'u-phys2', action: 'download' as const, at: '2026-01-01T12:00:00.000Z', deviceId: null },
    ];
    return all.filter((e) => !filter.patientId || e.patientId === filter.patientId);
  }
}

export interface Harness {
  ws: Workstation;
  clock: FakeClock;
  server: FakeAuthServer;
  sync: FakeSync;
  privacy: FakePrivacy;
  keyStore: MemoryKeyStore;
  dir: string;
  /** Typed invoke. */
  call<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ApiResult<ChannelOutput<C>>>;
  /** Invoke that must succeed. */
  ok<C extends Channel>(channel: C, input: ChannelInput<C>): Promise<ChannelOutput<C>>;
  login(username: string, password?: string): Promise<void>;
  /** Audit entries appended since `mark()`. */
  mark(): number;
  since(seq: number): AuditEntry[];
  close(): Promise<void>;
}

export async function createHarness(opts: { policy?: Partial<Policy>; seed?: boolean; synchronous?: 'FULL' | 'NORMAL'; /** Vault page cache; null = the vault's default (what the shell uses). Default 8 MB. */ cacheSizeMb?: number | null; /** Fake visit server, signalling and keys (test/telemedicine). */ telemedicine?: WorkstationOptions['telemedicine'] } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'ehr-session-'));
  const clock = new FakeClock(Date.now());
  const server = new FakeAuthServer();
  const sync = new FakeSync();
  const privacy = new FakePrivacy();
  const keyStore = createMemoryKeyStore();
  const ws = await createWorkstation({
    dataDir: dir,
    keyStore,
    ...(opts.synchronous ? { synchronous: opts.synchronous } : {}),
    policy: opts.policy ?? {},
    authServer: server,
    createSync: () => sync,
    privacy,
    ...(opts.telemedicine ? { telemedicine: opts.telemedicine } : {}),
    clock,
    argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    // Small by default (many tests, each its own vault); a benchmark asks for the shell's (null).
    ...(opts.cacheSizeMb === null ? {} : { cacheSizeMb: opts.cacheSizeMb ?? 8 }),
  });
  if (opts.seed !== false) seed(ws);
  const call = ws.invoke as Harness['call'];
  const h: Harness = {
    ws,
    clock,
    server,
    sync,
    privacy,
    keyStore,
    dir,
    call,
    async ok(channel, input) {
      const r = await call(channel, input);
      if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
      return r.value;
    },
    async login(username, password = PASSWORD) {
      await h.ok('auth.login', { username, password });
    },
    mark: () => ws.vault.audit.head()?.seq ?? 0,
    since: (seq) => ws.vault.audit.list({ afterSeq: seq, limit: 100_000 }),
    async close() {
      await ws.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Four patients: own (care team), canary (care team, canary PHI), other (another clinician's), vip (restricted). */
function seed(ws: Workstation): void {
  const { vault } = ws;
  vault.transaction(() => {
    vault.patients.upsert({ id: 'p-own', mrn: 'MRN-0001', givenNames: 'Olive', familyName: 'Owens', birthDate: '1980-01-02', gender: 'female' });
    vault.patients.upsert({ id: 'p-canary', mrn: CANARY.mrn, givenNames: CANARY.given, familyName: CANARY.family, birthDate: CANARY.birthDate, gender: 'male' });
    vault.patients.upsert({ id: 'p-other', mrn: 'MRN-0003', givenNames: 'Otto', familyName: 'Others', birthDate: '1975-05-06', gender: 'male' });
    vault.patients.upsert({ id: 'p-vip', mrn: 'MRN-0004', givenNames: 'Vera', familyName: 'Important', birthDate: '1990-07-08', gender: 'female', restricted: true });
    for (const pid of ['p-own', 'p-canary', 'p-other', 'p-vip']) {
      vault.resources.put({ resource: { ...vitals(pid), id: `obs-${pid}` } as Resource, patientId: pid, version: 1, status: 'synced' });
      vault.resources.put({ resource: { ...note(pid, pid === 'p-canary' ? CANARY.note : 'Routine follow-up'), id: `note-${pid}` } as Resource, patientId: pid, version: 1, status: 'synced' });
    }
  });
}

/** Every string in a value, depth-first (to search errors and events for canary PHI). */
export function containsCanary(value: unknown): string | null {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return CANARY_STRINGS.find((c) => text.includes(c)) ?? null;
}
