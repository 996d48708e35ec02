/**
 * Recordings of a visit: started with the patient's consent, each chunk sealed with the patient's
 * data key here before it touches disk or network, uploaded (or kept sealed in the vault while the
 * server is unreachable and sent from the sync loop), listed and read back with every envelope
 * opened in main only.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RecordingChunkPage, RecordingView } from '../../../src-shared/api';
import { EhrError, ErrorCode } from '../../../src-shared/errors';
import type { Envelope } from '../../../src-shared/node/envelope';
import { VISIT_LIMITS, type Recording } from '../../../src-shared/sync/visits';
import type { AuditActor } from '../audit';
import type { UserSession } from '../session';
import { isTransient } from '../sync/http-json';
import type { TelemedicineState } from './context';
import { openChunk, openMeta, sealChunk, sealMeta } from './recording-seal';
import type { RecordingEntry } from './visit-registry';
import { visitNotFound } from './visits';

/** What main remembers of a recording it has seen (ids and a content type: no PHI). */
interface KnownRecording {
  patientId: string;
  mimeType: string | null;
  chunkCount: number | null;
}

/** Only when a recording's sealed description names no content type: the container MediaRecorder makes here. */
const FALLBACK_MIME_TYPE = 'video/webm';

export function recordingNotFound(): EhrError {
  return new EhrError(ErrorCode.NOT_FOUND, 'No recording with that id is available.');
}

function viewOf(r: Recording, opened: { title: string | null; mimeType: string | null; durationMs: number | null }): RecordingView {
  return {
    recordingId: r.recordingId,
    visitId: r.visitId,
    patientId: r.patientId,
    createdBy: r.createdBy,
    createdAt: Date.parse(r.createdAt),
    status: r.status,
    chunkCount: r.chunkCount,
    mimeType: opened.mimeType,
    title: opened.title,
    durationMs: opened.durationMs,
  };
}

export function createRecordings(t: TelemedicineState) {
  const { registry } = t;
  const known = new Map<string, KnownRecording>();
  /** seq -> SHA-256 of the plaintext, so a renderer retry of a stored chunk is a no-op (a new seal would differ). */
  const digests = new Map<string, Map<number, string>>();
  let flushing: Promise<number> | null = null;

  function liveRecording(session: UserSession, recordingId: string): RecordingEntry {
    const r = registry.recording(recordingId, session.sessionId);
    if (!r) throw recordingNotFound();
    return r;
  }

  /** What playback needs to remember of a server recording; its count is final only once finished (a recording still going has none yet). */
  const knownOf = (r: Recording, mimeType: string | null): KnownRecording => ({ patientId: r.patientId, mimeType, chunkCount: r.status === 'complete' ? r.chunkCount : null });

  async function openRecording(r: Recording): Promise<RecordingView> {
    if (!r.meta) return viewOf(r, { title: null, mimeType: null, durationMs: null });
    try {
      const k = await t.keys.openingKey(r.patientId, r.meta.keyId);
      const media = openMeta(r.meta as Envelope, r.recordingId, r.patientId, k.key);
      const mimeType = media.content.contentType ?? null;
      known.set(r.recordingId, knownOf(r, mimeType));
      return viewOf(r, { title: media.content.title ?? null, mimeType, durationMs: media.duration !== undefined ? Math.round(media.duration * 1000) : null });
    } catch (e) {
      // One unreadable description must not hide the patient's other recordings; it shows untitled.
      if (e instanceof EhrError && (e.code === ErrorCode.INTEGRITY || e.code === ErrorCode.FORBIDDEN)) return viewOf(r, { title: null, mimeType: null, durationMs: null });
      throw e;
    }
  }

  /**
   * What the server's sealed description says of one recording (read through the patient's list,
   * which the server access-checks and audits like any chart read). Remembered, so a playback of
   * many pages asks once; a description that cannot be opened is remembered without a type.
   */
  async function describe(patientId: string, recordingId: string, correlationId: string): Promise<KnownRecording | null> {
    const r = (await t.server.listRecordings(patientId, correlationId)).find((x) => x.recordingId === recordingId && x.patientId === patientId);
    if (!r) return null;
    await openRecording(r);
    // A description that could not be opened is remembered without a type.
    if (!known.has(recordingId)) known.set(recordingId, knownOf(r, null));
    return known.get(recordingId)!;
  }

  /** Sends queued chunks of this user (oldest first), then the finishes that were waiting on them. */
  async function flushFor(session: UserSession): Promise<number> {
    let sent = 0;
    t.useSession(session);
    for (;;) {
      const batch = t.pending.list(session.user.userId, 32);
      if (batch.length === 0) break;
      for (const c of batch) {
        try {
          await t.server.putChunk(c.recordingId, c.seq, c.envelope, randomUUID());
        } catch (e) {
          if (isTransient(e)) return sent;
          // Refused for good (recording deleted, access ended): keeping it would block the queue forever.
        }
        t.pending.delete(c.recordingId, c.seq);
        sent++;
      }
    }
    const waiting = t.pending.finishes();
    const left = [];
    for (const f of waiting) {
      if (f.userId !== session.user.userId || t.pending.count(f.recordingId) > 0) {
        left.push(f);
        continue;
      }
      try {
        await t.server.finishRecording(f.recordingId, f.chunkCount, randomUUID());
        const r = registry.recording(f.recordingId, session.sessionId);
        if (r) r.status = 'complete';
      } catch (e) {
        if (isTransient(e)) left.push(f);
      }
    }
    t.pending.setFinishes(left);
    return sent;
  }

  return {
    async start(session: UserSession, actor: AuditActor, visitId: string, mimeType: string, correlationId: string): Promise<RecordingView> {
      const v = registry.visit(visitId, session.sessionId);
      if (!v || v.status !== 'open') throw visitNotFound();
      if (v.recordingConsent !== true) throw new EhrError(ErrorCode.FORBIDDEN, 'The patient has not consented to recording this visit.', { reason: 'NO_CONSENT' });
      const recordingId = randomUUID();
      const createdAt = t.now();
      const key = await t.keys.sealingKey(v.patientId);
      const meta = sealMeta({ recordingId, visitId, patientId: v.patientId, operatorUserId: session.user.userId, mimeType, createdAt }, key);
      t.useSession(session);
      const rec = await t.server.startRecording(visitId, recordingId, meta, correlationId);
      registry.addRecording({ recordingId, visitId, patientId: v.patientId, sessionId: session.sessionId, userId: session.user.userId, mimeType, createdAt: createdAt.getTime(), stored: new Set(), status: 'recording' });
      known.set(recordingId, { patientId: v.patientId, mimeType, chunkCount: null });
      t.audit.record(actor, { type: 'recording-start', patientId: v.patientId, resourceRefs: [`Encounter/${visitId}`, `Media/${recordingId}`] });
      return viewOf(rec, { title: null, mimeType, durationMs: null });
    },

    async chunk(session: UserSession, recordingId: string, seq: number, data: string): Promise<boolean> {
      const r = liveRecording(session, recordingId);
      if (r.status !== 'recording') throw new EhrError(ErrorCode.CONFLICT, 'That recording is finished.', { recordingId });
      const bytes = Buffer.from(data, 'base64');
      if (bytes.length > VISIT_LIMITS.chunkBytes) throw new EhrError(ErrorCode.TOO_LARGE, 'The recording chunk is too large.', { limit: VISIT_LIMITS.chunkBytes });
      const digest = createHash('sha256').update(bytes).digest('base64url');
      const seen = digests.get(recordingId) ?? new Map<number, string>();
      digests.set(recordingId, seen);
      const before = seen.get(seq);
      if (before !== undefined) {
        bytes.fill(0);
        if (before === digest) return true;
        throw new EhrError(ErrorCode.CONFLICT, 'A different chunk is already stored at that position.', { recordingId, seq });
      }
      const key = await t.keys.sealingKey(r.patientId);
      const envelope = sealChunk(recordingId, r.patientId, seq, bytes, key);
      // The plaintext is not needed past this point: do not leave it lying in the heap.
      bytes.fill(0);
      // Older chunks still queued go first, so the server sees the recording in order where it can.
      const queuedBefore = t.pending.count(recordingId) > 0;
      let sent = false;
      if (!queuedBefore) {
        try {
          t.useSession(session);
          await t.server.putChunk(recordingId, seq, envelope, randomUUID());
          sent = true;
        } catch (e) {
          if (!isTransient(e)) throw e;
        }
      }
      if (!sent) t.pending.put({ recordingId, seq, userId: session.user.userId, envelope });
      seen.set(seq, digest);
      r.stored.add(seq);
      return true;
    },

    async finish(session: UserSession, recordingId: string, correlationId: string): Promise<RecordingView> {
      const r = liveRecording(session, recordingId);
      const chunkCount = r.stored.size;
      for (let i = 0; i < chunkCount; i++) {
        if (!r.stored.has(i)) throw new EhrError(ErrorCode.INVALID, 'The recording has a gap: a chunk is missing.', { recordingId, missing: i });
      }
      if (t.pending.count(recordingId) > 0) await flushFor(session).catch(() => 0);
      const view = (status: RecordingView['status']): RecordingView => ({
        recordingId, visitId: r.visitId, patientId: r.patientId, createdBy: r.userId, createdAt: r.createdAt, status, chunkCount, mimeType: r.mimeType, title: null, durationMs: null,
      });
      if (t.pending.count(recordingId) > 0) {
        // Offline: the finish waits in the vault with the chunks and follows them.
        t.pending.setFinishes([...t.pending.finishes().filter((f) => f.recordingId !== recordingId), { recordingId, userId: r.userId, chunkCount }]);
        r.status = 'complete';
        return view('recording');
      }
      t.useSession(session);
      const rec = await t.server.finishRecording(recordingId, chunkCount, correlationId);
      r.status = 'complete';
      return viewOf(rec, { title: null, mimeType: r.mimeType, durationMs: null });
    },

    async list(session: UserSession, actor: AuditActor, patientId: string, correlationId: string): Promise<RecordingView[]> {
      t.useSession(session);
      const recs = await t.server.listRecordings(patientId, correlationId);
      const views: RecordingView[] = [];
      for (const r of recs) {
        if (r.patientId !== patientId) continue; // a broken server's foreign row is not this chart's
        views.push(await openRecording(r));
      }
      if (views.length) t.audit.record(actor, { type: 'read', patientId, resourceRefs: views.map((v) => `Media/${v.recordingId}`), reasonCode: 'recordings' });
      return views;
    },

    /**
     * A page of decrypted chunks. The patient is checked by `checkPatient` (main's own access rule)
     * BEFORE a single envelope is opened; the server has checked it too.
     */
    async read(
      session: UserSession, actor: AuditActor,
      input: { recordingId: string; from: number; limit: number; purpose: 'view' | 'download' },
      checkPatient: (patientId: string) => void, correlationId: string,
    ): Promise<RecordingChunkPage> {
      t.useSession(session);
      const page = await t.server.chunks(input.recordingId, input.from, input.limit, input.purpose, correlationId);
      const first = page[0];
      const info = known.get(input.recordingId);
      const patientId = info?.patientId ?? first?.envelope.patientId;
      if (!patientId) throw recordingNotFound();
      checkPatient(patientId);
      const chunks: RecordingChunkPage['chunks'] = [];
      let expected = input.from;
      for (const c of page) {
        if (c.seq !== expected) throw new EhrError(ErrorCode.INTEGRITY, 'The recording came back out of order.', { recordingId: input.recordingId });
        const k = await t.keys.openingKey(patientId, c.envelope.keyId);
        const bytes = openChunk(c.envelope as Envelope, input.recordingId, patientId, c.seq, k.key);
        chunks.push({ seq: c.seq, data: bytes.toString('base64') });
        expected++;
      }
      if (input.from === 0) {
        t.audit.record(actor, {
          type: input.purpose === 'download' ? 'recording-download' : 'recording-view',
          patientId, resourceRefs: [`Media/${input.recordingId}`],
        });
      }
      const live = registry.recording(input.recordingId, session.sessionId);
      // Nothing in memory (the workstation restarted, or the recording was made elsewhere): the
      // content type and chunk count come from the recording's sealed Media on the server, the
      // source of truth, opened here. Only a description that names none falls back to plain WebM.
      const described = info ?? (live ? null : await describe(patientId, input.recordingId, correlationId));
      const mimeType = described?.mimeType ?? live?.mimeType ?? FALLBACK_MIME_TYPE;
      const total = described?.chunkCount ?? null;
      const done = total !== null ? expected >= total : page.length < input.limit;
      return { recordingId: input.recordingId, mimeType, chunks, done };
    },

    async remove(session: UserSession, actor: AuditActor, recordingId: string, reason: string, correlationId: string): Promise<RecordingView> {
      t.useSession(session);
      const rec = await t.server.deleteRecording(recordingId, reason, correlationId);
      known.delete(recordingId);
      digests.delete(recordingId);
      registry.dropRecording(recordingId);
      // The reason is free text (could name the patient): it goes to the server's sealed review, not to our audit.
      t.audit.record(actor, { type: 'recording-delete', patientId: rec.patientId, resourceRefs: [`Encounter/${rec.visitId}`, `Media/${recordingId}`] });
      return viewOf(rec, { title: null, mimeType: null, durationMs: null });
    },

    /** From the sync loop: send what waited offline. One flush at a time. */
    flush(session: UserSession): Promise<number> {
      if (flushing) return flushing;
      flushing = flushFor(session).finally(() => {
        flushing = null;
      });
      return flushing;
    },
    pendingCount: (): number => t.pending.count(),
  };
}
export type Recordings = ReturnType<typeof createRecordings>;
