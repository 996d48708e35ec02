/**
 * Work to finish before the user locks or signs out (today: saving the note draft typed in the
 * last moment before its autosave fired). Only for locks the renderer starts: when main locks on
 * its own (idle, screen lock) the data channels are already closed, and the autosave long ran.
 */
const tasks = new Set<() => Promise<void>>();

export function registerBeforeLock(task: () => Promise<void>): () => void {
  tasks.add(task);
  return () => {
    tasks.delete(task);
  };
}

/** Run every task, each failure ignored, never longer than `maxMs` (a lock must not wait on them). */
export async function runBeforeLock(maxMs = 1000): Promise<void> {
  const all = Promise.allSettled([...tasks].map((t) => t()));
  await Promise.race([all, new Promise((r) => setTimeout(r, maxMs))]);
}
