/** organisations and their sites (the demo seed creates one of each). */
import type { Sql } from '../db/db';

/** Creates the organisation; false when it exists (the seed runs once on that). */
export async function createIfAbsent(sql: Sql, id: string, name: string): Promise<boolean> {
  const inserted = await sql.query('INSERT INTO organisations (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id', [id, name]);
  return inserted.length > 0;
}

export async function addSite(sql: Sql, id: string, orgId: string, name: string): Promise<void> {
  await sql.query('INSERT INTO sites (id, org_id, name) VALUES ($1, $2, $3)', [id, orgId, name]);
}
