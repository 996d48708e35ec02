/** Audit entry types and their canonical form (pure; the hash chain itself is src-shared/node/audit-chain.ts). */
export * from './types';
export { canonicalJson } from './canonical';
