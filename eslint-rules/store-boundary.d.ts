/** Types of the local ESLint rule module (the rule itself is plain JS, loaded by eslint.config.js). */
import type { ESLint, Rule } from 'eslint';

export function placeOf(rel: string): 'sql' | 'route' | 'other' | null;
export const storeBoundary: Rule.RuleModule;
declare const plugin: ESLint.Plugin;
export default plugin;
