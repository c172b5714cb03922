// The org's repositories and tags (GET /v1/orgs/{org}/repositories), read once and shared by
// the pages that pick a repository and tag; read again on demand or when a minute old, and
// every second for a while when a tag the page needs shows no platforms yet.
import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { CatalogTag, Repository } from '../api/client';
import { org } from '../session';
import { useAsync } from '../lib/useAsync';

let cached: { at: number; org: string; value: Promise<Repository[]> } | null = null;

export function repositories(fresh = false): Promise<Repository[]> {
  if (fresh || !cached || cached.org !== org() || Date.now() - cached.at > 60_000) {
    const value = ok(api.GET('/v1/orgs/{org}/repositories', { params: { path: { org: org() } } })).then((r) => r.repositories);
    value.catch(() => (cached = null));
    cached = { at: Date.now(), org: org(), value };
  }
  return cached.value;
}

export function useRepositories() {
  return useAsync(() => repositories(), [org()]);
}

/** How long a tag that shows no platforms is read again before the page lets people type them:
 * a worker reads a pushed tag's platforms within a second or two of the push's notification. */
const PLATFORMS_WAIT_MS = 15_000;
/** When each `repository:tag` was first seen without platforms (in this tab). */
const since = new Map<string, number>();

/**
 * The repositories, read again every second while one of `refs` is a tag of the catalog that
 * shows no platforms yet (for at most 15 s from when it was first seen so). `waiting`: those
 * references, while they are waited for.
 */
export function useTagPlatforms(refs: { repository: string; tag: string }[]) {
  const repos = useRepositories();
  const [tick, setTick] = useState(0);
  const now = Date.now();
  const waiting = refs
    .filter(({ repository, tag }) => {
      const t = repos.data?.find((r) => r.repository === repository)?.tags.find((x) => x.tag === tag);
      // A chart or another artifact has no platforms to wait for; an unread tag (kind null) does.
      if (!t || t.platforms.length || (t.kind && t.kind !== 'image')) return false;
      const k = `${repository}:${tag}`;
      if (!since.has(k)) since.set(k, now);
      return now - (since.get(k) ?? now) < PLATFORMS_WAIT_MS;
    })
    .map(({ repository, tag }) => `${repository}:${tag}`);
  const key = waiting.join(' ');
  useEffect(() => {
    if (!key) return;
    let live = true;
    const timer = setTimeout(async () => {
      await repositories(true).catch(() => undefined);
      if (live) await repos.reload();
      if (live) setTick((n) => n + 1);
    }, 1000);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key, tick]);
  return { repos, waiting };
}

export function tagsOf(repos: Repository[] | undefined, repository: string): CatalogTag[] {
  const tags = repos?.find((r) => r.repository === repository)?.tags ?? [];
  // Newest first: what people usually want.
  return [...tags].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : a.tag < b.tag ? 1 : -1));
}

/** The platforms a tag offers, or null when tailor does not know them yet. */
export function platformsOf(repos: Repository[] | undefined, repository: string, tag: string): string[] | null {
  const t = repos?.find((r) => r.repository === repository)?.tags.find((x) => x.tag === tag);
  return t && t.platforms.length ? t.platforms : null;
}

/** A tag's label in a list: `3.13 (linux/amd64, linux/arm64)`. */
export function tagLabel(t: CatalogTag): string {
  if (t.platforms.length) return `${t.tag} (${t.platforms.join(', ')})`;
  return t.kind === 'chart' ? `${t.tag} (Helm chart)` : t.kind === 'artifact' ? `${t.tag} (OCI artifact)` : t.tag;
}

/** What a tag offers, for people: its platforms, or what it is when it has none. */
export function tagPlatformsText(t: CatalogTag): string {
  if (t.platforms.length) return t.platforms.join(', ');
  return t.kind === 'chart' ? 'Helm chart' : t.kind === 'artifact' ? 'OCI artifact (no platforms)' : 'platforms not known yet';
}
