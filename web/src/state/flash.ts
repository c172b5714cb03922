// A message for the next page ("Created …"), shown once above it.
import { createStore } from '../lib/store';

export const flash = createStore<string>('');
