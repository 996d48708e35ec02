/** The strips under the top bar: lock warning, active break-glass grants, notices. No PHI in any. */
import { useApp, useEhr } from '../app/app-context';
import { formatSeconds, useCountdown } from './use-countdown';
import { heartbeat } from '../actions/session-actions';
import { endBreakGlass } from '../actions/misc-actions';
import type { BreakGlassGrant } from '../../src-shared/api/types';

export function LockWarningBanner() {
  const ctx = useApp();
  const lockAt = useEhr((s) => (s.lock === 'warning' ? s.lockAt : null));
  const offset = useEhr((s) => s.coreOffsetMs);
  const left = useCountdown(lockAt, offset);
  if (left === null) return null;
  return (
    <div className="banner warning" data-testid="lock-warning">
      {/* Announced once; the ticking countdown is for the eyes only (a live region would read every second). */}
      <span role="alert" className="visually-hidden">This workstation will lock soon without activity.</span>
      <span aria-hidden="true">This workstation locks in {formatSeconds(left)} without activity.</span>
      <button type="button" onClick={() => void heartbeat(ctx)}>Stay signed in</button>
    </div>
  );
}

function GrantBanner({ grant }: { grant: BreakGlassGrant }) {
  const ctx = useApp();
  const offset = useEhr((s) => s.coreOffsetMs);
  const left = useCountdown(grant.expiresAt, offset) ?? 0;
  return (
    <div className="banner breakglass" role="status" data-testid="breakglass-banner">
      <span>Emergency access ({grant.reason}) to patient record {grant.patientId} — ends in {formatSeconds(left)}. Every action is audited.</span>
      <button type="button" onClick={() => void endBreakGlass(ctx, grant.patientId)}>End emergency access</button>
    </div>
  );
}

export function BreakGlassBanners() {
  const grants = useEhr((s) => s.grants);
  return <>{grants.map((g) => <GrantBanner key={g.grantId} grant={g} />)}</>;
}

export function NoticeBanner() {
  const ctx = useApp();
  const notice = useEhr((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="banner warning" role="status" data-testid="notice">
      <span>{notice}</span>
      <button type="button" onClick={() => ctx.store.getState().setNotice(null)}>Dismiss</button>
    </div>
  );
}
