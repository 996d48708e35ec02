/**
 * A synthetic main-process core: the EhrApi channels over in-memory data, with a manual clock.
 * It is NOT the product. The UI benchmark uses it to put 200,000 patients and a 5,000-observation
 * chart behind the bridge without building a vault first, and the renderer-only specs use it to
 * test what is the renderer's job alone (unmounting PHI, web storage, accessibility). Flows across
 * the real core and server use workstation.ts.
 */
import type { Observation, Patient, Resource } from '@medplum/fhirtypes';
import type { ApiResult } from '../../src-shared/api/bridge';
import type { EhrEvent } from '../../src-shared/api/events';
import type {
  BreakGlassGrant, Chart, Draft, PatientSummary, RecordView, SessionStatus, SyncStatus, UserInfo,
} from '../../src-shared/api/types';
import type { CorePort } from '../../src-main/chromium-host/bridge-page';

export interface SyntheticUser extends UserInfo { password: string }

const FAMILIES = ['Smith', 'Jones', 'Garcia', 'Nguyen', 'Okafor', 'Muller', 'Rossi', 'Kowalski', 'Tanaka', 'Silva', 'Dubois', 'Hansen', 'Novak', 'Ivanova', 'Haddad', 'Murphy'];
const GIVENS = ['Ada', 'Ben', 'Chloe', 'Dev', 'Emil', 'Fatima', 'Gus', 'Hana', 'Ivan', 'Jia', 'Kofi', 'Lena', 'Mo', 'Nia', 'Omar', 'Pia'];

/** 0 -> '', 1 -> 'a', 27 -> 'aa': letters, because a name with digits would be searched as an MRN. */
function letters(n: number): string {
  let out = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) out = String.fromCharCode(97 + ((k - 1) % 26)) + out;
  return out;
}

export function syntheticPatient(i: number): PatientSummary {
  const family = `${FAMILIES[i % FAMILIES.length]}${letters(Math.floor(i / FAMILIES.length))}`;
  const y = 1930 + (i % 90);
  const m = String(1 + (i % 12)).padStart(2, '0');
  const d = String(1 + (i % 28)).padStart(2, '0');
  return { id: `p${i}`, mrn: `MRN-${String(i).padStart(7, '0')}`, family, given: [GIVENS[(i * 7) % GIVENS.length]!], birthDate: `${y}-${m}-${d}`, gender: i % 2 ? 'female' : 'male', access: 'care-team' };
}

export function vitalRecords(patientId: string, count: number, start = Date.UTC(2024, 0, 1)): RecordView[] {
  const codes = [['8867-4', '/min', 60, 40], ['8480-6', 'mm[Hg]', 110, 40], ['8310-5', 'Cel', 36.5, 2]] as const;
  return Array.from({ length: count }, (_, i) => {
    const [loinc, unit, base, spread] = codes[i % codes.length]!;
    const obs: Observation = {
      resourceType: 'Observation', id: `${patientId}-o${i}`, status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: new Date(start + i * 3_600_000).toISOString(),
      valueQuantity: { value: Math.round((base + ((i * 37) % 100) / 100 * spread) * 10) / 10, unit, code: unit },
    };
    return { id: obs.id!, patientId, resourceType: 'Observation', version: 1, status: 'synced', updatedAt: start, resource: obs };
  });
}

interface Options {
  patients: PatientSummary[];
  users: SyntheticUser[];
  /** Extra records per patient id (vitals, notes...). */
  records?: Map<string, RecordView[]>;
  /** Patient resources for charts (default: built from the summary). */
  demographics?: Map<string, Patient>;
  now?: () => number;
}

export class SyntheticCore implements CorePort {
  private readonly listeners = new Set<(e: EhrEvent) => void>();
  private user: UserInfo | null = null;
  private state: SessionStatus['state'] = 'none';
  private grants: BreakGlassGrant[] = [];
  private readonly drafts = new Map<string, Draft>();
  private readonly records: Map<string, RecordView[]>;
  private readonly byId: Map<string, PatientSummary>;
  readonly calls: string[] = [];
  sync: SyncStatus = { state: 'idle', pendingMutations: 0, conflicts: 0, lastSyncAt: null };
  now: () => number;

  constructor(private readonly opts: Options) {
    this.records = opts.records ?? new Map();
    this.byId = new Map(opts.patients.map((p) => [p.id, p]));
    this.now = opts.now ?? (() => Date.now());
  }

  onEvent(listener: (e: EhrEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: EhrEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** Main's lock: state first, then the event (what the real session manager does). */
  lockNow(reason: 'idle' | 'user' = 'idle'): void {
    if (!this.user) return;
    this.state = 'locked';
    this.emit({ event: 'session.locked', payload: { reason, userId: this.user.userId } });
  }

  status(): SessionStatus {
    return {
      state: this.state, user: this.user, lockAt: this.now() + 15 * 60_000, warningAt: null, offline: false,
      breakGlass: this.grants, sessions: [], lockTimeoutMinutes: 15, lockWarningSeconds: 60, videoVisits: false, visitRecording: false,
    };
  }

  private fail(code: string, message: string): ApiResult<never> {
    return { ok: false, error: { code: code as never, message } };
  }

  private chart(patientId: string): Chart | null {
    const p = this.byId.get(patientId);
    if (!p) return null;
    const patient: Patient = this.opts.demographics?.get(patientId) ?? {
      resourceType: 'Patient', id: p.id, birthDate: p.birthDate ?? undefined, gender: (p.gender ?? undefined) as Patient['gender'],
      name: [{ family: p.family ?? undefined, given: p.given }],
      identifier: [{ type: { coding: [{ code: 'MR' }] }, value: p.mrn ?? undefined }],
    };
    return { patient, access: p.access, records: this.records.get(patientId) ?? [] };
  }

  private nameIndex: Array<[string, number]> | null = null;

  /** Sorted (name part, patient index) pairs: a prefix search is a binary search, like an index. */
  private names(): Array<[string, number]> {
    if (!this.nameIndex) {
      const idx: Array<[string, number]> = [];
      this.opts.patients.forEach((p, i) => {
        for (const part of [p.family ?? '', ...p.given]) if (part) idx.push([part.toLowerCase(), i]);
      });
      idx.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
      this.nameIndex = idx;
    }
    return this.nameIndex;
  }

  private search(q: { name?: string; mrn?: string; birthDate?: string; limit?: number }): PatientSummary[] {
    const limit = q.limit ?? 25;
    if (q.name) {
      const name = q.name.toLowerCase();
      const idx = this.names();
      let lo = 0;
      let hi = idx.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (idx[mid]![0] < name) lo = mid + 1;
        else hi = mid;
      }
      const seen = new Set<number>();
      for (let k = lo; k < idx.length && idx[k]![0].startsWith(name) && seen.size < limit; k++) seen.add(idx[k]![1]);
      return [...seen].map((i) => this.opts.patients[i]!);
    }
    const out: PatientSummary[] = [];
    for (const p of this.opts.patients) {
      const hit = q.mrn ? (p.mrn ?? '').startsWith(q.mrn) : p.birthDate === q.birthDate;
      if (hit && out.push(p) >= limit) break;
    }
    return out;
  }

  async invoke(channel: string, input: unknown): Promise<ApiResult<unknown>> {
    this.calls.push(channel);
    const i = (input ?? {}) as Record<string, unknown>;
    const ok = (value: unknown): ApiResult<unknown> => ({ ok: true, value });
    switch (channel) {
      case 'auth.login': {
        const u = this.opts.users.find((x) => x.username === i.username && x.password === i.password);
        if (!u) return this.fail('UNAUTHENTICATED', 'Wrong username or password.');
        const { password: _pw, ...user } = u;
        this.user = user;
        this.state = 'active';
        return ok(this.status());
      }
      case 'auth.unlock': {
        const u = this.opts.users.find((x) => x.userId === this.user?.userId);
        if (!u || u.password !== i.password) return this.fail('UNAUTHENTICATED', 'Wrong password.');
        this.state = 'active';
        return ok(this.status());
      }
      case 'auth.logout':
        this.user = null;
        this.state = 'none';
        return ok(this.status());
      case 'session.status':
        return ok(this.status());
      case 'session.heartbeat':
        return ok({ lockAt: this.user ? this.now() + 15 * 60_000 : null });
      case 'session.lock':
        this.lockNow('user');
        return ok(this.status());
      default:
        break;
    }
    if (!this.user) return this.fail('NO_SESSION', 'Sign in first.');
    if (this.state === 'locked') return this.fail('LOCKED', 'The session is locked.');
    switch (channel) {
      case 'patients.search':
        return ok(this.search(i));
      case 'patients.mine': {
        const offset = typeof i.offset === 'number' ? i.offset : 0;
        const limit = typeof i.limit === 'number' ? i.limit : 50;
        const mine = this.opts.patients.filter((p) => p.access === 'care-team');
        const patients = mine.slice(offset, offset + limit);
        return ok({ patients, nextOffset: offset + patients.length < mine.length ? offset + patients.length : null });
      }
      case 'patients.open': {
        const c = this.chart(String(i.patientId));
        if (!c) return this.fail('NOT_FOUND', 'No such patient.');
        const granted = this.grants.some((g) => g.patientId === i.patientId);
        if ((c.access === 'restricted' || c.access === 'none') && !granted) return this.fail('FORBIDDEN', 'Outside your care team.');
        return ok(granted ? { ...c, access: 'break-glass' } : c);
      }
      case 'records.save': {
        const pid = String(i.patientId);
        const list = this.records.get(pid) ?? [];
        const id = `r${list.length + 1}-${this.calls.length}`;
        list.push({ id, patientId: pid, resourceType: (i.resource as Resource).resourceType as never, version: 0, status: 'pending', updatedAt: this.now(), resource: { ...(i.resource as Resource), id } });
        this.records.set(pid, list);
        return ok({ id, version: 0, mutationId: `m-${id}` });
      }
      case 'drafts.save': {
        const existing = [...this.drafts.values()].find((d) => d.key === i.key);
        const d: Draft = { draftId: existing?.draftId ?? `d${this.drafts.size + 1}`, key: String(i.key), patientId: (i.patientId as string) ?? null, updatedAt: this.now(), content: String(i.content) };
        this.drafts.set(d.draftId, d);
        const { content: _c, ...summary } = d;
        return ok(summary);
      }
      case 'drafts.list':
        return ok([...this.drafts.values()].map(({ content: _c, ...s }) => s));
      case 'drafts.get': {
        const d = this.drafts.get(String(i.draftId));
        return d ? ok(d) : this.fail('NOT_FOUND', 'No such draft.');
      }
      case 'drafts.delete':
        return ok({ deleted: this.drafts.delete(String(i.draftId)) });
      case 'sync.status':
      case 'sync.now':
        return ok(this.sync);
      case 'sync.conflicts':
        return ok([]);
      case 'breakGlass.request': {
        const g: BreakGlassGrant = { grantId: `g${this.grants.length + 1}`, patientId: String(i.patientId), reason: i.reason as never, startedAt: this.now(), expiresAt: this.now() + 60 * 60_000 };
        this.grants.push(g);
        return ok(g);
      }
      case 'breakGlass.active':
        return ok(this.grants);
      case 'breakGlass.end':
        this.grants = this.grants.filter((g) => g.patientId !== i.patientId);
        return ok({ ended: true });
      case 'audit.list':
        return ok([]);
      case 'print.chart': {
        const c = this.chart(String(i.patientId));
        return c ? ok({ jobId: 'j1', patientId: i.patientId, patient: c.patient, records: c.records }) : this.fail('NOT_FOUND', 'No such patient.');
      }
      default:
        return this.fail('INVALID', `The synthetic core does not implement ${channel}.`);
    }
  }
}
