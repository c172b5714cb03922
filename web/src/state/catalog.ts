// The org's repositories and tags (GET /v1/orgs/{org}/repositories), read once and shared by
// the pages that pick a repository and tag; read again on demand or when a minute old.
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
  return t.platforms.length ? `${t.tag} (${t.platforms.join(', ')})` : t.tag;
}
