/**
 * The layer import rule (eslint-rules/layer-boundaries.js) under ESLint's RuleTester: each case the
 * old path-pattern rules let through now fails, and the imports each layer needs still pass.
 */
import { layerBoundaries } from '../../eslint-rules/layer-boundaries.js';
import { at, ruleTester } from '../helpers/rule-tester';

const tester = ruleTester();
const bad = (file: string, code: string) => ({ filename: at(file), code, errors: [{ messageId: 'forbidden' as const }] });
const ok = (file: string, code: string) => ({ filename: at(file), code });

tester.run('layer-boundaries', layerBoundaries, {
  valid: [
    ok('src-main/core/vault/index.ts', "import { EhrError } from '../../../src-shared/errors';"),
    ok('src-main/core/vault/index.ts', "import Database from 'better-sqlite3-multiple-ciphers'; import { join } from 'node:path';"),
    ok('src-main/core/sync/pull.ts', "import { seal } from '../../../src-shared/node/envelope';"),
    ok('src-main/electron/main.ts', "import { app } from 'electron'; import { createWorkstation } from '../core/workstation';"),
    ok('src-main/electron/main.ts', "const { autoUpdater } = await import('electron-updater');"),
    ok('src-renderer/App.tsx', "import { useState } from 'react'; import { create } from 'zustand'; import type { EhrApi } from '../src-shared/api';"),
    ok('src-shared/api/index.ts', "import { z } from 'zod'; import { ROUTES } from '../sync/routes';"),
    ok('src-shared/node/envelope.ts', "import { createCipheriv } from 'node:crypto'; import { EhrError } from '../errors';"),
    ok('src-server/routes/sync.ts', "import pg from 'pg'; import { seal } from '../../src-shared/node/envelope';"),
    // Outside the layers (tests, scripts) the rule has nothing to say.
    ok('test/bench/sync.ts', "import { app } from 'electron'; import { openVault } from '../../src-main/core/vault';"),
    // A computed specifier cannot be resolved and is left alone.
    ok('src-main/core/native/load.ts', 'const m = await import(name);'),
  ],
  invalid: [
    // Passed the old rules: a relative path into src-main/electron from core.
    bad('src-main/core/session/lock.ts', "import { powerMonitor } from '../../electron/power';"),
    // Passed the old rules: a dynamic import of electron.
    bad('src-main/core/native/load.ts', "const { app } = await import('electron');"),
    bad('src-main/core/native/load.ts', 'const e = await import(`electron`);'),
    bad('src-main/core/native/load.ts', "const e = require('electron');"),
    // Passed the old rules: Node-only packages and builtins in src-shared outside src-shared/node.
    bad('src-shared/sync/common.ts', "import { readFileSync } from 'fs/promises';"),
    bad('src-shared/sync/common.ts', "import { createHash } from 'node:crypto';"),
    bad('src-shared/api/index.ts', "import pg from 'pg';"),
    bad('src-shared/api/index.ts', "export { hash } from '@node-rs/argon2';"),
    bad('src-shared/api/index.ts', "import { seal } from '../node/envelope';"),
    // Passed the old rules: React in src-main/electron.
    bad('src-main/electron/window.ts', "import { createElement } from 'react';"),
    bad('src-main/electron/window.ts', "import { renderToString } from 'react-dom/server';"),
    // Across layers, including type-only imports and re-exports.
    bad('src-renderer/store/session.ts', "import type { Vault } from '../../src-main/core/vault';"),
    bad('src-renderer/store/session.ts', "import { seal } from '../../src-shared/node/envelope';"),
    bad('src-renderer/store/session.ts', "import { join } from 'path';"),
    bad('src-server/routes/sync.ts', "export * from '../../src-main/core/sync/pull';"),
    bad('src-server/routes/sync.ts', "import { app } from 'electron';"),
    bad('src-shared/node/audit-chain.ts', "import { startServer } from '../../src-server/index';"),
    bad('src-main/core/api/records.ts', "import { App } from '../../../src-renderer/App';"),
    bad('src-main/core/api/records.ts', "import { helper } from '../../../test/e2e/stack';"),
  ],
});
