/**
 * The preload (sandboxed, context-isolated): exposes `window.ehr` and nothing else. Bundled by
 * scripts/build-main.mjs to dist/main/electron/preload.cjs.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge';

contextBridge.exposeInMainWorld('ehr', createBridge(ipcRenderer));
