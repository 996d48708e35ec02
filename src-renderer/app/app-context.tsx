/** React access to the AppContext (client + store) the actions need. */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { AppContext } from '../actions/context';
import type { EhrState } from '../state/store';

const Ctx = createContext<AppContext | null>(null);

export function AppProvider({ ctx, children }: { ctx: AppContext; children: ReactNode }) {
  return <Ctx.Provider value={ctx}>{children}</Ctx.Provider>;
}

export function useApp(): AppContext {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useApp outside AppProvider');
  return ctx;
}

/** Select only what a component renders, so it re-renders only when that changes. */
export function useEhr<T>(selector: (s: EhrState) => T): T {
  return useStore(useApp().store, selector);
}
