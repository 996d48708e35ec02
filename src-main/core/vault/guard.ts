/**
 * Wraps every repository method so that an SQLite failure surfaces as a named, PHI-free vault error
 * (disk full, damaged file, ...) rather than a raw SqliteError whose text could quote SQL or values.
 */
import { fromStorage } from './errors';

export function guardRepository<T extends object>(repo: T): T {
  const guarded = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(repo)) {
    guarded[name] = typeof value === 'function'
      ? (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown)(...args);
        } catch (e) {
          throw fromStorage(e);
        }
      }
      : value;
  }
  return guarded as T;
}
