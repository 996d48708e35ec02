/** server_secrets: the secrets every instance shares (JWT signing key, notes key), each wrapped by the KEK. */
import type { Sql } from '../db/db';

export async function wrappedOf(sql: Sql, name: string): Promise<string | null> {
  const [row] = await sql.query<{ wrapped: string }>('SELECT wrapped FROM server_secrets WHERE name = $1', [name]);
  return row?.wrapped ?? null;
}

/** Stores the secret unless another instance stored one first (then that one stays: read it back). */
export async function insertFirst(sql: Sql, name: string, wrapped: string): Promise<void> {
  await sql.query('INSERT INTO server_secrets (name, wrapped) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, wrapped]);
}

/** Every secret, row-locked until the transaction ends (KEK rotation). */
export async function allForUpdate(sql: Sql): Promise<{ name: string; wrapped: string }[]> {
  return sql.query<{ name: string; wrapped: string }>('SELECT name, wrapped FROM server_secrets FOR UPDATE');
}

export async function setWrapped(sql: Sql, name: string, wrapped: string): Promise<void> {
  await sql.query('UPDATE server_secrets SET wrapped = $2 WHERE name = $1', [name, wrapped]);
}
