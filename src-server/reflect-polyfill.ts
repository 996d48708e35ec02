/**
 * The three Reflect metadata functions tsyringe (used inside @peculiar/x509) calls, so we need no
 * polyfill dependency. Import this before '@peculiar/x509'. It only stores and reads metadata in a
 * WeakMap; nothing in our code reads it.
 */
type MetaReflect = typeof Reflect & {
  defineMetadata?: (key: unknown, value: unknown, target: object, prop?: PropertyKey) => void;
  getOwnMetadata?: (key: unknown, target: object, prop?: PropertyKey) => unknown;
  getMetadata?: (key: unknown, target: object, prop?: PropertyKey) => unknown;
};

const R = Reflect as MetaReflect;
if (!R.getMetadata) {
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<unknown, unknown>>>();
  const own = (target: object, prop?: PropertyKey, create = false): Map<unknown, unknown> | undefined => {
    let byProp = store.get(target);
    if (!byProp && create) store.set(target, (byProp = new Map()));
    let meta = byProp?.get(prop);
    if (!meta && create && byProp) byProp.set(prop, (meta = new Map()));
    return meta;
  };
  R.defineMetadata = (key, value, target, prop) => void own(target, prop, true)!.set(key, value);
  R.getOwnMetadata = (key, target, prop) => own(target, prop)?.get(key);
  R.getMetadata = (key, target, prop) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const meta = own(t, prop);
      if (meta?.has(key)) return meta.get(key);
    }
    return undefined;
  };
}
export {};
