/**
 * The plan for building better-sqlite3-multiple-ciphers against Electron's headers, in a scratch
 * copy of the package (never in node_modules, whose build belongs to Node and to `npm test`).
 * Pure: build-electron-binary.ts executes it.
 *
 * node-gyp is called directly with --runtime/--target/--dist-url (Electron's documented manual
 * build). Not through `npm run` with npm_config_* variables: npm 11 does not pass unknown
 * npm_config_* settings on to scripts, and node-gyp then silently builds for Node instead.
 */
import path from 'node:path';
import { NATIVE_FILE, nativeDirName } from './choose';

export const PACKAGE_NAME = 'better-sqlite3-multiple-ciphers';
export const ELECTRON_HEADERS_URL = 'https://electronjs.org/headers';
/** What a build needs from the package (not its 23 MB Node build/ folder). */
export const PACKAGE_PARTS = ['package.json', 'binding.gyp', 'deps', 'src'];

export interface ElectronBuildInput {
  projectDir: string;
  electronVersion: string;
  electronAbi: string;
  platform: NodeJS.Platform;
  arch: string;
  /** node-gyp's entry script (npm's bundled copy; see nodeGypCandidates). */
  nodeGyp: string;
  /** The Node that runs node-gyp. */
  nodeExecPath: string;
}

export interface ElectronBuildPlan {
  packageDir: string;
  workDir: string;
  copy: string[];
  command: { file: string; args: string[]; cwd: string };
  builtFile: string;
  outFile: string;
}

export function planElectronBuild(input: ElectronBuildInput): ElectronBuildPlan {
  if (!/^\d+\.\d+\.\d+/.test(input.electronVersion)) throw new Error(`not an Electron version: ${input.electronVersion}`);
  if (!/^\d+$/.test(input.electronAbi)) throw new Error(`not a module ABI: ${input.electronAbi}`);
  const dir = nativeDirName('electron', input.electronAbi, input.platform, input.arch);
  const workDir = path.join(input.projectDir, 'native', '.build', dir, PACKAGE_NAME);
  return {
    packageDir: path.join(input.projectDir, 'node_modules', PACKAGE_NAME),
    workDir,
    copy: PACKAGE_PARTS,
    command: {
      file: input.nodeExecPath,
      args: [
        input.nodeGyp,
        'rebuild',
        '--release',
        '--runtime=electron',
        `--target=${input.electronVersion}`,
        `--dist-url=${ELECTRON_HEADERS_URL}`,
        `--arch=${input.arch}`,
      ],
      cwd: workDir,
    },
    builtFile: path.join(workDir, 'build', 'Release', NATIVE_FILE),
    outFile: path.join(input.projectDir, 'native', dir, NATIVE_FILE),
  };
}

/**
 * Where npm's own node-gyp may be, in order: next to the npm that runs us (npm_execpath), then the
 * standard layouts of a Node install (Unix: <prefix>/lib/node_modules/npm; Windows: beside node.exe).
 */
export function nodeGypCandidates(nodeExecPath: string, platform: NodeJS.Platform, npmExecPath?: string): string[] {
  const rel = path.join('node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const out: string[] = [];
  if (npmExecPath) out.push(path.join(path.dirname(path.dirname(npmExecPath)), rel));
  const nodeDir = path.dirname(nodeExecPath);
  if (platform === 'win32') out.push(path.join(nodeDir, 'node_modules', 'npm', rel));
  else out.push(path.join(path.dirname(nodeDir), 'lib', 'node_modules', 'npm', rel));
  return out;
}

/**
 * Reads the result of loading the built binary in plain Node: an Electron build must be refused by
 * Node with a NODE_MODULE_VERSION mismatch naming the Electron ABI. One that loads is a Node build.
 */
export function checkElectronBuild(loadError: string | null, electronAbi: string): { ok: true } | { ok: false; reason: string } {
  if (loadError === null) return { ok: false, reason: 'the binary loads in Node, so it was built for Node, not Electron' };
  if (new RegExp(`NODE_MODULE_VERSION ${electronAbi}\\b`).test(loadError)) return { ok: true };
  return { ok: false, reason: `the binary does not report Electron's ABI ${electronAbi}` };
}
