/** Break-glass, the privacy officer's audit views, and printing. */
import type { AppContext } from './context';
import { fetchPhi } from './context';
import type { BreakGlassReason } from '../../src-shared/policy';
import type { AuditVerification, PrintJob } from '../../src-shared/api/types';
import { openChart } from './patient-actions';
import { syncNow } from './sync-actions';

export async function requestBreakGlass(
  ctx: AppContext, patientId: string, reason: BreakGlassReason, justification: string, password: string,
): Promise<void> {
  const grant = await ctx.client.call('breakGlass.request', { patientId, reason, justification, password });
  const s = ctx.store.getState();
  s.learnCoreNow(grant.startedAt);
  s.grantStarted(grant);
  s.closeBreakGlass();
  // A patient outside the care team is usually not on this workstation yet: the grant puts it in
  // the sync scope, and the next cycles bring its chart. Try to open, pulling in between.
  for (let attempt = 0; attempt < 3; attempt++) {
    const opened = await openChart(ctx, patientId, undefined, { quietNotFound: attempt < 2 });
    if (opened.ok || opened.code !== 'NOT_FOUND') return;
    await syncNow(ctx).catch(() => undefined);
  }
}

export async function endBreakGlass(ctx: AppContext, patientId: string): Promise<void> {
  await ctx.client.call('breakGlass.end', { patientId });
  const s = ctx.store.getState();
  s.grantEnded(patientId);
  if (s.patientId === patientId) {
    s.clearPhi();
    s.navigate('patients', null);
  }
}

export async function loadAudit(ctx: AppContext, filter: { type?: string; patientId?: string }): Promise<void> {
  await fetchPhi(ctx, () => ctx.client.call('audit.list', { afterSeq: 0, limit: 500, ...filter }), (audit) => ({ audit }));
}

export function verifyAudit(ctx: AppContext): Promise<AuditVerification> {
  return ctx.client.call('audit.verify', {});
}

/** Fetch the print job (main audits the print), then hand it to the browser's print dialog. */
export async function printChart(ctx: AppContext, patientId: string): Promise<PrintJob | null> {
  return fetchPhi(ctx, () => ctx.client.call('print.chart', { patientId }), (job) => ({
    chart: { patient: job.patient, access: ctx.store.getState().chart?.access ?? 'care-team', records: job.records },
  }));
}
