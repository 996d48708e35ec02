/**
 * The development host's side of the shell's media rule (src-main/electron/security.ts
 * permissionDecision): Electron asks its handlers at each question; Chromium under Playwright has
 * only per-context grants instead. So the grant follows the core: after every API call and every
 * event the bridge asks `allowed()` (Workstation.mediaCaptureAllowed: an open visit of the user in
 * front, video visits allowed by policy) and grants camera, microphone and clipboard-write to the
 * renderer's own origin only, or clears every grant when the visit is over.
 *
 * A call's answer reaches the page only after the grant is in place, so the renderer's
 * getUserMedia right after visits.start finds it (and a revoked one is gone before visits.end answers).
 */
import type { BrowserContext } from 'playwright-core';

/** Playwright's names for what a visit needs (the clipboard for "Copy patient link"). */
const VISIT_PERMISSIONS = ['camera', 'microphone', 'clipboard-write'] as const;

export interface MediaGrant {
  /** Brings the context's grants in line with the core; resolves when done. Never throws. */
  sync(): Promise<void>;
}

export function mediaGrantFollowing(context: BrowserContext, origin: string, allowed: () => boolean): MediaGrant {
  let granted = false;
  let chain: Promise<void> = Promise.resolve();
  const apply = async (): Promise<void> => {
    const want = allowed();
    if (want === granted) return;
    if (want) await context.grantPermissions([...VISIT_PERMISSIONS], { origin });
    else await context.clearPermissions();
    granted = want;
  };
  return {
    // One change at a time, in order: a grant and a clear racing could leave the camera granted.
    sync() {
      chain = chain.then(apply).catch(() => undefined); // the context may be closing
      return chain;
    },
  };
}
