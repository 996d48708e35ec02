/**
 * Two workstations edit the same chart offline, then reconnect: nothing is lost, the conflict is
 * kept with both versions, resolved by a clinician, and the resolution itself syncs.
 * Runs against the real server on PGlite and on PostgreSQL (the test cluster; it fails without one).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CANARY_FAMILY, DOCTOR, NURSE, cleanupAll, makeWorkstation, note, saveLocally, startTestServer } from './helpers/harness';

afterAll(cleanupAll);

const backends = [{ name: 'PGlite', postgres: false }, { name: 'PostgreSQL', postgres: true }];

describe.each(backends)('two workstations, one chart ($name)', ({ postgres }) => {
  it('keeps both offline edits, lists the conflict with author/device/time, and syncs the resolution', async () => {
    let server = await startTestServer({ postgres });
    const a = await makeWorkstation(server, DOCTOR);
    const b = await makeWorkstation(server, NURSE);
    const patientId = 'demo-p-0002';

    // Both start from the same server state.
    const sa = await a.engine.syncNow();
    await b.engine.syncNow();
    expect(sa.state).toBe('idle');
    expect(sa.online).toBe(true);
    expect(sa.dataAsOf[patientId]).toBeTruthy();
    const chart = a.vault.resources.listByPatient(patientId);
    expect(chart.length).toBeGreaterThan(0);

    // A shared record both will edit: created by A and synced, so both hold version 1.
    saveLocally(a.vault, note('note-shared', patientId, 'baseline'), patientId);
    await a.engine.syncNow();
    await b.engine.syncNow();
    expect(b.vault.resources.get('note-shared')?.version).toBe(1);

    // The network goes away (server down); both edit the same record.
    await server.close();
    saveLocally(a.vault, note('note-shared', patientId, `A: ${CANARY_FAMILY} reports chest pain`), patientId, 'u-physician');
    saveLocally(b.vault, note('note-shared', patientId, 'B: BP 120/80 at 10:00'), patientId, 'u-nurse');
    const offline = await a.engine.syncNow();
    expect(offline.state).toBe('offline');
    expect(offline.online).toBe(false);
    expect(offline.pendingMutations).toBe(1);
    expect(offline.message).not.toContain(CANARY_FAMILY);

    // Reconnect: A pushes first and wins the race; B gets a conflict — both versions kept.
    server = await server.restart();
    // A's offline attempt backed off (up to the harness cap, 400 ms); a fast restart can beat it.
    const due = a.engine.status().nextAttemptAt;
    if (due) await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now()) + 20));
    expect((await a.engine.syncNow()).pendingMutations).toBe(0);
    const sb = await b.engine.syncNow();
    expect(sb.conflicts).toBe(1);
    expect(sb.pendingMutations).toBe(0);
    const [conflict] = b.engine.conflicts();
    expect(conflict).toBeDefined();
    expect(conflict!.recordId).toBe('note-shared');
    expect((conflict!.mine.resource as { valueString: string }).valueString).toBe('B: BP 120/80 at 10:00');
    expect((conflict!.theirs.resource as { valueString: string }).valueString).toContain('A:');
    expect(conflict!.theirs.authorUserId).toBe('u-physician');
    expect(conflict!.theirs.deviceId).toBe(a.vault.device.deviceId);
    expect(conflict!.theirs.at).toMatch(/^\d{4}-/);
    expect(conflict!.mine.deviceId).toBe(b.vault.device.deviceId);
    expect(conflict!.mine.authorUserId).toBe('u-nurse');
    expect(conflict!.serverVersion).toBe(2);
    // Not silently overwritten: B's own text is still what B's chart shows until someone decides.
    expect((b.vault.resources.get('note-shared')!.resource as { valueString: string }).valueString).toBe('B: BP 120/80 at 10:00');

    // The nurse merges both texts; the merged version syncs as version 3.
    const merged = note('note-shared', patientId, `A: ${CANARY_FAMILY} reports chest pain\nB: BP 120/80 at 10:00`);
    const res = await b.engine.resolveConflict(conflict!.conflictId, { merged });
    expect(res.mutationId).toBeTruthy();
    const after = await b.engine.syncNow();
    expect(after.conflicts).toBe(0);
    expect(after.state).toBe('idle');
    expect(after.audit).toEqual({ pending: 0, rejected: null, quarantined: 0 });
    expect(after.pendingMutations).toBe(0);
    expect(b.vault.resources.get('note-shared')).toMatchObject({ version: 3, status: 'synced' });

    // A sees the merged version on its next pull.
    await a.engine.syncNow();
    const onA = a.vault.resources.get('note-shared')!;
    expect(onA.version).toBe(3);
    expect((onA.resource as { valueString: string }).valueString).toContain('B: BP 120/80');

    // The server stores envelopes only: the canary never appears in its database in plaintext.
    const stored = await server.db.query<{ ct: string }>("SELECT ct FROM records WHERE record_id = 'note-shared'");
    expect(stored).toHaveLength(1);
    const dump = JSON.stringify(await server.db.query('SELECT * FROM records')) + JSON.stringify(await server.db.query('SELECT * FROM conflicts'));
    expect(dump).not.toContain(CANARY_FAMILY);
    expect(server.logs.join('\n')).not.toContain(CANARY_FAMILY);
  });
});
