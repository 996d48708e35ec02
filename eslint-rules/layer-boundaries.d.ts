/** Types of the local ESLint rule module (the rule itself is plain JS, loaded by eslint.config.js). */
import type { ESLint, Rule } from 'eslint';

export const NODE_ONLY_PACKAGES: ReadonlySet<string>;
export function layerOf(rel: string): string | null;
export function packageName(spec: string): string;
export function classify(spec: string, fromRel: string): { kind: string; layer?: string; name?: string; target?: string };
export function violation(spec: string, fromRel: string): string | null;
export const layerBoundaries: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
