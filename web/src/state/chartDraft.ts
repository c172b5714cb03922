// The chart customization form's draft, kept for the tab (sessionStorage) like the wizard's,
// so that a reload loses nothing: one draft, of the form it was typed in (a new chart
// customization, or the edit of one revision); cleared when that form is submitted.
import type { ChartCustomization } from '../api/client';

export interface Mapping {
  key: number;
  from: string;
  to: string;
}

export interface ChartDraft {
  /** The chart customization edited and its revision; null for a new one. */
  id: string | null;
  revision: number | null;
  name: string;
  source: string;
  versions: string;
  suffix: string;
  destination: string;
  strict: boolean;
  rows: Mapping[];
  seq: number;
  refVersion: string;
}

const KEY = 'tailor.chart-draft';

/** The form's values for `existing` (null: a new one), from its spec. */
export function chartDraftOf(existing: ChartCustomization | null): ChartDraft {
  const s = existing?.spec;
  const rows = (s?.reference_mapping ?? []).map((m, i) => ({ key: i, from: m.from, to: m.to }));
  return {
    id: existing?.id ?? null,
    revision: existing?.revision ?? null,
    name: s?.name ?? '',
    source: s?.source ?? '',
    versions: (s?.versions ?? []).join(' '),
    suffix: s?.tag_suffix ?? '',
    destination: s?.destination ?? '',
    strict: s?.strict ?? false,
    rows,
    seq: rows.length + 1,
    refVersion: '',
  };
}

/** The draft kept for this form, else its values from the spec. */
export function loadChartDraft(existing: ChartCustomization | null): ChartDraft {
  const fresh = chartDraftOf(existing);
  try {
    const d = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as ChartDraft | null;
    if (d && typeof d === 'object' && Array.isArray(d.rows) && d.id === fresh.id && d.revision === fresh.revision) return { ...fresh, ...d };
  } catch {
    // Unreadable: start from the spec.
  }
  return fresh;
}

export function saveChartDraft(d: ChartDraft) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(d));
  } catch {
    // Storage full or denied: the draft still lives in the form.
  }
}

export function clearChartDraft() {
  sessionStorage.removeItem(KEY);
}
