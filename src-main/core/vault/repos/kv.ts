/** Settings and cursors (e.g. the sync pull cursor). Values are strings; JSON helpers for the rest. */
import type { Db } from '../connection';

export function createKvRepository(db: Db) {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?');
  const set = db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  const del = db.prepare('DELETE FROM kv WHERE key = ?');
  return {
    get(key: string): string | null {
      return get.get(key)?.value ?? null;
    },
    set(key: string, value: string): void {
      set.run(key, value);
    },
    getJson<T>(key: string): T | null {
      const v = get.get(key)?.value;
      return v === undefined ? null : (JSON.parse(v) as T);
    },
    setJson(key: string, value: unknown): void {
      set.run(key, JSON.stringify(value));
    },
    delete(key: string): boolean {
      return del.run(key).changes === 1;
    },
  };
}
