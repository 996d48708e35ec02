/**
 * Builds better_sqlite3.node for the installed Electron into native/electron-<abi>-<platform>-<arch>/.
 * Run by `node scripts/build-main.mjs --native` (or `npx tsx src-main/core/native/build-electron-binary.ts`)
 * on a machine that can download Electron's headers; takes ~2 minutes. Leaves node_modules alone,
 * and checks the result really is an Electron build before keeping it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkElectronBuild, nodeGypCandidates, planElectronBuild } from './electron-build-plan';

export function installedElectron(projectDir: string): { version: string; abi: string } {
  const dir = path.join(projectDir, 'node_modules', 'electron');
  const version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const abi = readFileSync(path.join(dir, 'abi_version'), 'utf8').trim();
  return { version, abi };
}

/** Loads the binary in a throwaway Node process; returns its load error, or null if it loaded. */
function loadErrorInNode(file: string): string | null {
  const r = spawnSync(process.execPath, ['-e', `try { require(${JSON.stringify(file)}); } catch (e) { process.stdout.write(String(e.message)); process.exit(3); }`], {
    encoding: 'utf8',
  });
  return r.status === 3 ? r.stdout : null;
}

export function buildElectronBinary(projectDir: string): string {
  const electron = installedElectron(projectDir);
  const nodeGyp = nodeGypCandidates(process.execPath, process.platform, process.env.npm_execpath).find((f) => existsSync(f));
  if (!nodeGyp) throw new Error("npm's node-gyp was not found next to this Node installation; install Node.js with npm.");
  const plan = planElectronBuild({
    projectDir,
    electronVersion: electron.version,
    electronAbi: electron.abi,
    platform: process.platform,
    arch: process.arch,
    nodeGyp,
    nodeExecPath: process.execPath,
  });
  const scratch = path.join(projectDir, 'native', '.build');
  rmSync(plan.workDir, { recursive: true, force: true });
  mkdirSync(plan.workDir, { recursive: true });
  try {
    for (const part of plan.copy) cpSync(path.join(plan.packageDir, part), path.join(plan.workDir, part), { recursive: true });
    console.log(`Building ${path.basename(plan.packageDir)} for Electron ${electron.version} (ABI ${electron.abi}) ...`);
    const r = spawnSync(plan.command.file, plan.command.args, { cwd: plan.command.cwd, stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(plan.builtFile)) {
      throw new Error(
        'The Electron build of the database engine failed. It needs network access to download Electron headers ' +
          `(${plan.command.args.find((a) => a.startsWith('--dist-url='))?.slice(11)}) and a C++ toolchain with Python 3.`,
      );
    }
    const check = checkElectronBuild(loadErrorInNode(plan.builtFile), electron.abi);
    if (!check.ok) throw new Error(`The database engine build is not usable by Electron: ${check.reason}.`);
    mkdirSync(path.dirname(plan.outFile), { recursive: true });
    copyFileSync(plan.builtFile, plan.outFile);
    return plan.outFile;
  } finally {
    rmSync(path.dirname(plan.workDir), { recursive: true, force: true });
    if (existsSync(scratch) && readdirSync(scratch).length === 0) rmSync(scratch, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    console.log(`Built ${buildElectronBinary(process.cwd())}`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
