export { chooseNativeBinding, nativeDirName, NATIVE_FILE, type NativeChoice, type RuntimeInfo, type NativeRuntime } from './choose';
export { planElectronBuild, type ElectronBuildPlan } from './electron-build-plan';
