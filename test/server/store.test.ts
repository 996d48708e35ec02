/**
 * The store methods that carry logic of their own — upserts, RETURNING answers, atomic counters,
 * first-write-wins inserts — run against a migrated database (PGlite; PostgreSQL too under
 * scripts/postgres-session.sh), as the restricted application role the server uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src-server/db/db';
import { openDatabase } from '../../src-server/db/open';
import * as alerts from '../../src-server/store/alerts';
import * as authThrottle from '../../src-server/store/auth-throttle';
import * as dataKeys from '../../src-server/store/data-keys';
import * as deviceAudit from '../../src-server/store/device-audit';
import * as justifications from '../../src-server/store/device-justifications';
import * as devices from '../../src-server/store/devices';
import * as enrollmentCodes from '../../src-server/store/enrollment-codes';
import * as patients from '../../src-server/store/patients';
import * as records from '../../src-server/store/records';
import * as reviews from '../../src-server/store/reviews';
import * as serverSecrets from '../../src-server/store/server-secrets';
import * as sessions from '../../src-server/store/sessions';
import * as users from '../../src-server/store/users';
import type { WireAuditEntry } from '../../src-shared/sync';
import { VARIANTS } from './helpers';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
let n = 0;
/** A fresh id per call, so the cases of one file share a database without sharing rows. */
const id = (prefix: string): string => `${prefix}-${++n}`;

describe.each(VARIANTS)('store on $name', (variant) => {
  let db: Db;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ehr-store-'));
    db = await openDatabase({ dataDir: dir, databaseUrl: variant.databaseUrl ? await variant.databaseUrl() : undefined });
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const newUser = async (): Promise<string> => {
    const userId = id('u');
    expect(await users.create(db, { id: userId, username: `${userId}-name`, displayName: 'Test', passwordHash: 'x', roles: ['nurse'] })).toBe(true);
    return userId;
  };

  describe('users', () => {
    it('create answers false for a taken username and leaves the first account', async () => {
      const first = await newUser();
      expect(await users.create(db, { id: id('u'), username: `${first}-name`, displayName: 'Other', passwordHash: 'y', roles: ['admin'] })).toBe(false);
      expect((await users.byUsernameForLogin(db, `${first}-name`))?.id).toBe(first);
    });

    it('countFailure counts in one statement, locks at the limit, and restarts after the lock lapses', async () => {
      const userId = await newUser();
      const lockUntil = at(15);
      for (const expected of [1, 2, 3, 4]) expect(await users.countFailure(db, userId, T0, 5, lockUntil)).toEqual({ failures: expected, locked: false });
      expect(await users.countFailure(db, userId, T0, 5, lockUntil)).toEqual({ failures: 5, locked: true });
      expect(await users.isLocked(db, userId, at(1))).toBe(true);
      // Still locked: a guess counts on, and the lock keeps its end.
      expect(await users.countFailure(db, userId, at(1), 5, at(16))).toEqual({ failures: 6, locked: true });
      expect((await users.adminById(db, userId))?.locked_until?.toISOString()).toBe(at(16).toISOString());
      // Lapsed: the next failure starts a fresh count and clears the lock.
      expect(await users.isLocked(db, userId, at(20))).toBe(false);
      expect(await users.countFailure(db, userId, at(20), 5, at(35))).toEqual({ failures: 1, locked: false });
      expect((await users.adminById(db, userId))?.locked_until).toBeNull();
      expect(await users.countFailure(db, id('nobody'), T0, 5, lockUntil)).toBeUndefined();
    });

    it('countFailure in parallel: every failure is counted once and sees its own count', async () => {
      const userId = await newUser();
      const counts = await Promise.all(Array.from({ length: 20 }, () => users.countFailure(db, userId, T0, 100, at(15))));
      expect(counts.map((c) => c!.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('clearFailures refuses while the account is locked and clears once the lock lapsed', async () => {
      const userId = await newUser();
      for (let i = 0; i < 3; i++) await users.countFailure(db, userId, T0, 3, at(15));
      expect(await users.clearFailures(db, userId, at(5))).toBe(false);
      expect(await users.isLocked(db, userId, at(5))).toBe(true);
      expect(await users.clearFailures(db, userId, at(15))).toBe(true);
      expect(await users.countFailure(db, userId, at(16), 3, at(31))).toEqual({ failures: 1, locked: false });
    });

    it('suspendIfActive suspends once; reinstate makes the account active and unlocked again', async () => {
      const userId = await newUser();
      expect(await users.suspendIfActive(db, userId, 'access-rate: test')).toBe(true);
      expect(await users.suspendIfActive(db, userId, 'access-rate: again')).toBe(false);
      expect((await users.adminById(db, userId))?.status_reason).toBe('access-rate: test');
      expect(await users.suspendPendingReview(db, userId, 'by officer')).toBe(true);
      expect(await users.suspendPendingReview(db, id('nobody'), 'by officer')).toBe(false);
      await users.countFailure(db, userId, T0, 1, at(15));
      await users.reinstate(db, userId);
      const row = await users.adminById(db, userId);
      expect([row?.status, row?.status_reason, row?.locked_until]).toEqual(['active', null, null]);
    });
  });

  describe('auth_throttle', () => {
    it('countFailure upserts every key at once and restarts a key whose window lapsed', async () => {
      const [a, b] = [id('acct'), id('src')];
      await authThrottle.countFailure(db, [a, b], T0, at(-15));
      await authThrottle.countFailure(db, [a], at(1), at(-14));
      const rows = new Map((await authThrottle.current(db, [a, b], at(-14))).map((r) => [r.key, r]));
      expect([rows.get(a)?.failures, rows.get(b)?.failures]).toEqual([2, 1]);
      expect(rows.get(a)?.window_start.toISOString()).toBe(T0.toISOString());
      // Window start T0 is at or before the lapse line: a new window at the failure's time.
      await authThrottle.countFailure(db, [a], at(16), T0);
      const [again] = await authThrottle.current(db, [a], T0);
      expect([again?.failures, again?.window_start.toISOString()]).toEqual([1, at(16).toISOString()]);
      expect(await authThrottle.current(db, [b], T0)).toEqual([]);
    });
  });

  describe('devices and enrollment codes', () => {
    it('a code is redeemed once, never after it expired', async () => {
      const [live, old] = [id('code'), id('code')];
      await enrollmentCodes.insert(db, live, 'admin', at(60));
      await enrollmentCodes.insert(db, old, 'admin', at(-1));
      const tries = await Promise.all([enrollmentCodes.consume(db, live, 'd1', T0), enrollmentCodes.consume(db, live, 'd2', T0)]);
      expect(tries.filter(Boolean)).toHaveLength(1);
      expect(await enrollmentCodes.consume(db, old, 'd3', T0)).toBe(false);
    });

    it('insertNew leaves an existing device alone; revoke keeps the first revocation time', async () => {
      const deviceId = id('dev');
      expect(await devices.insertNew(db, { id: deviceId, name: 'ward', publicKey: 'k1', enrolledAt: T0 })).toMatchObject({ id: deviceId, name: 'ward', revoked_at: null });
      expect(await devices.insertNew(db, { id: deviceId, name: 'other', publicKey: 'k2', enrolledAt: at(1) })).toBeUndefined();
      expect(await devices.publicKeyForUpdate(db, deviceId)).toBe('k1');
      expect(await devices.isActive(db, deviceId)).toBe(true);
      expect((await devices.revoke(db, deviceId, at(5)))?.revoked_at?.toISOString()).toBe(at(5).toISOString());
      expect((await devices.revoke(db, deviceId, at(9)))?.revoked_at?.toISOString()).toBe(at(5).toISOString());
      expect(await devices.isActive(db, deviceId)).toBe(false);
      expect(await devices.revoke(db, id('dev'), at(5))).toBeUndefined();
    });
  });

  describe('sessions', () => {
    it('usersWithSessionSince: a family counts until it was revoked, else until its newest token expires, else from its creation', async () => {
      const deviceId = id('dev');
      const hour = 3600_000;
      const family = async (userId: string, tokenExpires: Date | null, device = deviceId): Promise<string> => {
        const familyId = id('fam');
        await sessions.createFamily(db, familyId, userId, device);
        if (tokenExpires) await sessions.addRefreshToken(db, id('tok'), familyId, tokenExpires);
        return familyId;
      };
      const [live, revoked, expired, tokenless, elsewhere] = [await newUser(), await newUser(), await newUser(), await newUser(), await newUser()];
      await family(live, new Date(Date.now() + 2 * hour));
      // Revoked now, though its token would live on: the revocation is when it ended.
      await sessions.revokeFamily(db, await family(revoked, new Date(Date.now() + 2 * hour)), 'logout');
      await family(expired, new Date(Date.now() - 2 * hour));
      await family(tokenless, null);
      await family(elsewhere, new Date(Date.now() + 2 * hour), id('dev'));
      const everyone = [live, revoked, expired, tokenless, elsewhere];
      expect(await sessions.usersWithSessionSince(db, deviceId, everyone, new Date(Date.now() - hour))).toEqual(new Set([live, revoked, tokenless]));
      expect(await sessions.usersWithSessionSince(db, deviceId, everyone, new Date(Date.now() + hour))).toEqual(new Set([live]));
      expect(await sessions.usersWithSessionSince(db, deviceId, [], new Date(0))).toEqual(new Set());
    });

    it('revokeFamily keeps the first reason; liveState reports the revocation', async () => {
      const userId = await newUser();
      const deviceId = id('dev');
      await devices.insertNew(db, { id: deviceId, name: null, publicKey: 'k', enrolledAt: T0 });
      const familyId = id('fam');
      await sessions.createFamily(db, familyId, userId, deviceId);
      expect(await sessions.liveState(db, userId, familyId, deviceId)).toMatchObject({ status: 'active', family_revoked: false, device_revoked: false });
      await sessions.revokeFamily(db, familyId, 'logout');
      await sessions.revokeDeviceFamilies(db, deviceId);
      expect(await sessions.liveState(db, userId, familyId, deviceId)).toMatchObject({ family_revoked: true });
      const [row] = await db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM refresh_families WHERE id = $1', [familyId]);
      expect(row?.revoked_reason).toBe('logout');
      // A family of another device does not vouch for this one.
      expect(await sessions.liveState(db, userId, familyId, id('dev'))).toBeUndefined();
    });
  });

  describe('records', () => {
    const row = (recordId: string, version: number): records.RecordRow => ({
      record_id: recordId, patient_id: 'p-store', resource_type: 'Observation', version, key_id: 'k1', nonce: 'n', ct: 'c', tag: 't',
      deleted: false, author_user_id: 'u', device_id: 'd', updated_at: T0,
    });
    const seqs = async (ids: string[]): Promise<Map<string, number>> =>
      new Map((await db.query<{ record_id: string; seq: string }>('SELECT record_id, seq::text AS seq FROM records WHERE record_id = ANY($1::text[])', [ids])).map((r) => [r.record_id, Number(r.seq)]));

    it('upsert gives each row the next seq in the order given, and a changed record moves to the end', async () => {
      const [a, b, c] = [id('r'), id('r'), id('r')];
      await db.tx(async (sql) => {
        await records.lockForWrite(sql);
        await records.upsert(sql, [row(b, 1), row(a, 1), row(c, 1)]);
      });
      const first = await seqs([a, b, c]);
      expect(first.get(b)! < first.get(a)! && first.get(a)! < first.get(c)!).toBe(true);
      await records.upsert(db, [row(a, 2)]);
      const second = await seqs([a, b, c]);
      expect(second.get(a)! > first.get(c)!).toBe(true);
      expect((await records.heads(db, [a, id('r')])).map((r) => [r.record_id, r.version])).toEqual([[a, 2]]);
      await records.upsert(db, []);
    });
  });

  describe('keys and secrets', () => {
    it('dataKeys.insertFirst answers the creation time once, then null; the first wrap stays', async () => {
      const patientId = id('p');
      const created = await dataKeys.insertFirst(db, { patientId, keyId: 'k1', wrapped: 'w1', createdBy: 'u' });
      expect(created).toBeInstanceOf(Date);
      expect(await dataKeys.insertFirst(db, { patientId, keyId: 'k1', wrapped: 'w2', createdBy: 'u' })).toBeNull();
      await dataKeys.insertFirst(db, { patientId, keyId: 'k2', wrapped: 'w3', createdBy: 'u' });
      expect((await dataKeys.ofPatient(db, patientId)).map((k) => [k.key_id, k.wrapped])).toEqual([['k1', 'w1'], ['k2', 'w3']]);
      expect((await dataKeys.ofPatient(db, patientId, 'k2')).map((k) => k.key_id)).toEqual(['k2']);
      const pairs = await dataKeys.byPairs(db, [{ patientId, keyId: 'k2' }, { patientId, keyId: 'missing' }, { patientId: id('p'), keyId: 'k1' }]);
      expect(pairs.map((k) => k.key_id)).toEqual(['k2']);
      expect(await dataKeys.byPairs(db, [])).toEqual([]);
    });

    it('serverSecrets.insertFirst keeps whichever instance stored first', async () => {
      const name = id('secret');
      await serverSecrets.insertFirst(db, name, 'first');
      await serverSecrets.insertFirst(db, name, 'second');
      expect(await serverSecrets.wrappedOf(db, name)).toBe('first');
      expect(await serverSecrets.wrappedOf(db, id('secret'))).toBeNull();
    });
  });

  describe('patients', () => {
    it('insertIfAbsent answers whether it registered; restrictedFlag is null for an unknown patient', async () => {
      const patientId = id('p');
      expect(await patients.insertIfAbsent(db, patientId)).toBe(true);
      expect(await patients.insertIfAbsent(db, patientId)).toBe(false);
      expect(await patients.restrictedFlag(db, patientId)).toBe(false);
      await patients.setRestricted(db, patientId, true);
      const fresh = id('p');
      await patients.setRestricted(db, fresh, true);
      expect(await patients.restrictedFlag(db, fresh)).toBe(true);
      expect(await patients.restrictedFlag(db, id('p'))).toBeNull();
      expect(await patients.restrictedAmong(db, [fresh, patientId, id('p')])).toEqual([fresh, patientId].sort());
    });
  });

  describe('alerts and offline justifications', () => {
    it('finds a break-glass alert by its device entry, the newest open one by device, and merges an end into its detail', async () => {
      const [deviceId, userId, patientId] = [id('dev'), id('u'), id('p')];
      const raise = async (detail: Record<string, string | number>): Promise<string> => {
        const alertId = id('alert');
        await alerts.insert(db, { id: alertId, kind: 'break-glass', severity: 'medium', userId, patientId, detail: { deviceId, ...detail } });
        return alertId;
      };
      const older = await raise({ seq: 7, source: 'device' });
      const newer = await raise({ seq: 9, source: 'device' });
      expect(await alerts.breakGlassOfEntry(db, deviceId, 7)).toBe(older);
      expect(await alerts.breakGlassOfEntry(db, deviceId, 8)).toBeNull();
      expect(await alerts.openBreakGlassOnDevice(db, userId, patientId, deviceId)).toBe(newer);
      await alerts.mergeDetail(db, newer, { endedAt: T0.toISOString(), endSeq: 10 });
      expect(await alerts.openBreakGlassOnDevice(db, userId, patientId, deviceId)).toBe(older);
      const [row] = await db.query<alerts.AlertRow>('SELECT * FROM alerts WHERE id = $1', [newer]);
      expect(row?.detail).toEqual({ deviceId, seq: 9, source: 'device', endedAt: T0.toISOString(), endSeq: 10 });
      expect(await alerts.openBreakGlassOnDevice(db, userId, patientId, id('dev'))).toBeNull();
    });

    it('acknowledge answers the updated row, or undefined for no such alert', async () => {
      const alertId = id('alert');
      await alerts.insert(db, { id: alertId, kind: 'access-rate', severity: 'high', userId: null, patientId: null, detail: { n: 1 } });
      expect(await alerts.acknowledge(db, alertId, 'u-privacy', 'sealed')).toMatchObject({ id: alertId, acknowledged_by: 'u-privacy', note_sealed: 'sealed' });
      expect(await alerts.acknowledge(db, id('alert'), 'u-privacy', 'sealed')).toBeUndefined();
    });

    it('a justification is stored once per entry: the first text stays', async () => {
      const j = { deviceId: id('dev'), seq: 3, userId: 'u', patientId: 'p', reason: 'ETREAT', correlationId: 'c', justificationSealed: 'first', alertId: null };
      expect(await justifications.insertFirst(db, j)).toBe(true);
      expect(await justifications.insertFirst(db, { ...j, justificationSealed: 'second' })).toBe(false);
      expect(await justifications.sealedOf(db, j.deviceId, 3)).toBe('first');
      expect(await justifications.sealedOf(db, j.deviceId, 4)).toBeNull();
    });
  });

  describe('device audit', () => {
    it('head is null before the first batch; append stores the sent link whole; hashesAt answers what is held', async () => {
      const deviceId = id('dev');
      expect(await deviceAudit.head(db, deviceId)).toBeNull();
      const entry = (seq: number): WireAuditEntry => ({
        deviceId, seq, prevHash: `h${seq - 1}`, hash: `h${seq}`, at: at(seq).toISOString(), action: 'R', type: 'read', outcome: 'success',
        severity: 'info', userId: 'u', role: 'nurse', correlationId: `c${seq}`, patientId: 'p', reasonCode: 'TREAT',
      } as WireAuditEntry);
      await deviceAudit.append(db, deviceId, [1, 2].map((seq) => ({ columns: entry(seq), sent: entry(seq) })));
      expect(await deviceAudit.head(db, deviceId)).toEqual({ seq: 2, hash: 'h2' });
      expect(await deviceAudit.hashesAt(db, deviceId, [1, 5])).toEqual(new Map([[1, 'h1']]));
      expect(await deviceAudit.entryAt(db, deviceId, 2)).toEqual({ type: 'read', outcome: 'success', user_id: 'u', patient_id: 'p', correlation_id: 'c2', reason: 'TREAT' });
      expect(await deviceAudit.entryAt(db, deviceId, 3)).toBeUndefined();
    });
  });

  describe('review dispositions', () => {
    it('nextId is taken before the insert and is the row id; ofSubjects lists oldest first', async () => {
      const subjectId = id('item');
      const ids: string[] = [];
      for (const disposition of ['follow-up', 'appropriate'] as const) {
        const rowId = await reviews.nextId(db);
        ids.push(rowId);
        await reviews.insert(db, { id: rowId, subject: 'alert', subjectId, disposition, noteSealed: `note-${rowId}`, reviewerId: 'u-privacy', patientId: null });
      }
      const rows = await reviews.ofSubjects(db, [subjectId]);
      expect(rows.map((r) => [r.id, r.disposition, r.note_sealed])).toEqual([[ids[0], 'follow-up', `note-${ids[0]}`], [ids[1], 'appropriate', `note-${ids[1]}`]]);
    });
  });
});
