// A value that components can follow: `useStore(store)` re-renders on every `set`.
import { useEffect, useState } from 'preact/hooks';

export interface Store<T> {
  readonly value: T;
  set(v: T): void;
  subscribe(f: () => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get value() {
      return value;
    },
    set(v: T) {
      value = v;
      listeners.forEach((f) => f());
    },
    subscribe(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
  };
}

export function useStore<T>(store: Store<T>): T {
  const [, tick] = useState(0);
  useEffect(() => store.subscribe(() => tick((n) => n + 1)), [store]);
  return store.value;
}
