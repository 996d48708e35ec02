/**
 * ESLint's RuleTester wired to vitest, for the project's own lint rules (eslint-rules/): cases
 * are named by a path relative to the repository root, since the rules judge a file by where it is.
 */
import path from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';

// RuleTester's hooks (afterAll is read at run time but missing from its types).
(RuleTester as unknown as { afterAll: typeof afterAll }).afterAll = afterAll;
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const root = path.resolve(import.meta.dirname, '..', '..');

export const ruleTester = (): RuleTester =>
  new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' } });

/** A case in the file at `rel` (relative to the repository root). */
export const at = (rel: string): string => path.join(root, rel);
