// Tests against a real OpenSearch cluster: the one LSR_TEST_OPENSEARCH_URL names (`.ci/run` starts
// three nodes with scripts/opensearch/cluster and sets it). Each test server uses its own index
// prefix, so test files share one cluster without seeing each other's collections, and drops its
// indexes when done.
import { randomBytes } from 'node:crypto';

export const OPENSEARCH_URL = process.env.LSR_TEST_OPENSEARCH_URL || undefined;

export const NO_OPENSEARCH =
  'no OpenSearch cluster to test against: set LSR_TEST_OPENSEARCH_URL (scripts/opensearch/cluster start prints the URL)';

/** A fresh index prefix for one test server. */
export function testPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** Server settings: a cluster-backed server whose collections default to `kind`; embedded has no cluster. */
export function backendEnv(kind: 'embedded' | 'opensearch', prefix: string): Record<string, string> {
  if (kind === 'embedded') return {};
  return { LSR_OPENSEARCH_URL: OPENSEARCH_URL!, LSR_OPENSEARCH_PREFIX: prefix, LSR_DEFAULT_BACKEND: 'opensearch' };
}

/** Deletes every index of a prefix (collections, and the service's configuration and job indexes). */
export async function dropIndices(prefix: string): Promise<void> {
  if (!OPENSEARCH_URL) return;
  const r = await fetch(`${OPENSEARCH_URL}/_cat/indices/${prefix}-*,${prefix}.*?format=json`);
  if (!r.ok) return;
  const list = (await r.json()) as { index: string }[];
  for (const { index } of list) await fetch(`${OPENSEARCH_URL}/${index}`, { method: 'DELETE' });
}

/** A request straight to the cluster (to check what the service put there). */
export async function cluster(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${OPENSEARCH_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
