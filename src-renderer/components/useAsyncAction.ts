/**
 * Run an action from a button or form: tracks busy state and turns a failure into a PHI-free
 * message (main's message is PHI-free by contract; other errors get a generic one).
 */
import { useCallback, useState } from 'react';
import { EhrCallError } from '../client/ehr-client';

export function messageOf(e: unknown): string {
  return e instanceof EhrCallError ? e.message : 'Something went wrong. Try again, or call IT if it keeps happening.';
}

export function useAsyncAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (...args: A): Promise<boolean> => {
      setBusy(true);
      setError(null);
      try {
        await fn(...args);
        return true;
      } catch (e) {
        setError(messageOf(e));
        return false;
      } finally {
        setBusy(false);
      }
    },
    [fn],
  );
  return { run, busy, error, setError };
}
