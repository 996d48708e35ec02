/**
 * The signed-in, unlocked app: top bar, banners, the current screen, status bar. Mounted only while
 * unlocked (App renders LockScreen instead), so on unlock it mounts afresh: it re-reads the chart
 * of the screen the clinician was on and puts focus in the main region.
 */
import { useEffect, useRef } from 'react';
import { useApp, useEhr } from './app-context';
import { lockNow, logout } from '../actions/session-actions';
import { reloadChart } from '../actions/patient-actions';
import { refreshSync } from '../actions/sync-actions';
import { canReadAudit, canReviewPrivacy, canSearchPatients } from './permissions';
import { BreakGlassBanners, LockWarningBanner, NoticeBanner } from '../components/Banners';
import { BreakGlassDialog } from '../components/BreakGlassDialog';
import { StatusBar } from '../components/StatusBar';
import { PatientsScreen } from '../screens/PatientsScreen';
import { ChartScreen } from '../screens/ChartScreen';
import { VitalsScreen } from '../screens/VitalsScreen';
import { NoteScreen } from '../screens/NoteScreen';
import { ConflictsScreen } from '../screens/ConflictsScreen';
import { AuditScreen } from '../screens/AuditScreen';
import { PrintScreen } from '../screens/PrintScreen';
import { PrivacyScreen } from '../screens/PrivacyScreen';
import type { Screen } from '../state/nav-slice';

const SCREENS: Record<Screen, () => React.JSX.Element> = {
  patients: PatientsScreen,
  chart: ChartScreen,
  vitals: VitalsScreen,
  note: NoteScreen,
  conflicts: ConflictsScreen,
  audit: AuditScreen,
  print: PrintScreen,
  privacy: PrivacyScreen,
};

function NavButton({ screen, label }: { screen: Screen; label: string }) {
  const { store } = useApp();
  const current = useEhr((s) => s.screen);
  const active = current === screen || (screen === 'patients' && ['chart', 'vitals', 'note', 'print'].includes(current));
  return (
    <button type="button" aria-current={active ? 'page' : undefined} onClick={() => store.getState().navigate(screen)}>
      {label}
    </button>
  );
}

export function Shell() {
  const ctx = useApp();
  const screen = useEhr((s) => s.screen);
  const user = useEhr((s) => s.user);
  const roles = user?.roles ?? [];
  const main = useRef<HTMLElement>(null);
  const Current = SCREENS[screen];

  // Mounted after login or unlock: bring back what the screen shows (PHI was dropped on lock).
  useEffect(() => {
    void reloadChart(ctx).catch(() => undefined);
    void refreshSync(ctx).catch(() => undefined);
  }, [ctx]);

  // Focus follows the screen, so keyboard and screen-reader users start at its content.
  useEffect(() => {
    if (!main.current?.contains(document.activeElement)) main.current?.focus();
  }, [screen]);

  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Clinic EHR</span>
        <nav aria-label="Main">
          {canSearchPatients(roles) && <NavButton screen="patients" label="Patients" />}
          <NavButton screen="conflicts" label="Conflicts" />
          {canReadAudit(roles) && <NavButton screen="audit" label="Audit" />}
          {canReviewPrivacy(roles) && <NavButton screen="privacy" label="Privacy review" />}
        </nav>
        <span className="spacer" />
        <span data-testid="user">{user?.displayName} ({roles.join(', ')})</span>
        <button type="button" onClick={() => void lockNow(ctx)} title="Lock (Ctrl+L)">Lock</button>
        <button type="button" onClick={() => void logout(ctx)}>Sign out</button>
      </header>
      <div>
        <LockWarningBanner />
        <BreakGlassBanners />
        <NoticeBanner />
      </div>
      <main className="main" ref={main} tabIndex={-1} aria-label="Content">
        <Current />
      </main>
      <StatusBar />
      <BreakGlassDialog />
    </div>
  );
}
