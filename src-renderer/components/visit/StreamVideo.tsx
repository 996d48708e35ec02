/**
 * A <video> showing a MediaStream (srcObject: no URL, so nothing for the CSP's media-src to allow).
 * Always muted: the remote voice plays from the call service's own audio element, which is not in
 * the DOM and so keeps playing while the lock screen replaces this view.
 */
import { useEffect, useRef } from 'react';

export function StreamVideo({ stream, label, mirrored, testId }: { stream: MediaStream | null; label: string; mirrored?: boolean; testId: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (!v) return;
    v.srcObject = stream;
    if (stream) void v.play().catch(() => undefined);
    return () => { v.srcObject = null; };
  }, [stream]);
  return <video ref={ref} className={mirrored ? 'visit-video mirrored' : 'visit-video'} aria-label={label} muted autoPlay playsInline data-testid={testId} />;
}
