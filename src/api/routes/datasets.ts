// BEIR datasets the server may read (folders directly under LSR_DATASET_ROOTS): listed, and one
// split's judged queries with their judgments, for a client comparing two search configurations
// over a query set (the web console's Compare). The corpus is never read here. A dataset name is a
// single folder name (the schema allows no `/` and no leading `.`), and the folder must lie inside
// its root once symlinks are resolved, as `dir:` model sources must lie inside the model roots.
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { datasetRoots } from '../../config.js';
import { fail } from '../../errors.js';
import { DatasetJudgments, DatasetList, DatasetParams, DatasetQuery, withErrors } from '../schemas.js';

/** Largest queries.jsonl or qrels file read (a judged query set, not a corpus). */
const MAX_FILE_BYTES = 64 << 20;

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The roots that exist, resolved. */
function realRoots(): string[] {
  return datasetRoots().flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
}

function splitsOf(dir: string): string[] {
  const q = join(dir, 'qrels');
  if (!existsSync(join(dir, 'queries.jsonl')) || !existsSync(q) || !statSync(q).isDirectory()) return [];
  return readdirSync(q)
    .filter((f) => f.endsWith('.tsv'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** The dataset folder of `name` in the first root that has it, inside that root. */
function datasetDir(name: string): string {
  const roots = realRoots();
  if (roots.length === 0) fail('DATASET_NOT_FOUND', 'the server offers no datasets: LSR_DATASET_ROOTS is not set', 'name');
  for (const root of roots) {
    const dir = join(root, name);
    if (!existsSync(dir)) continue;
    const real = realpathSync(dir);
    if (!isInside(root, real) || real === root) fail('DATASET_NOT_FOUND', `dataset '${name}' leads outside the dataset roots`, 'name');
    if (splitsOf(real).length > 0) return real;
  }
  fail('DATASET_NOT_FOUND', `no dataset '${name}' (a folder with queries.jsonl and qrels/<split>.tsv) under the dataset roots`, 'name');
}

function readText(path: string, what: string): string {
  if (statSync(path).size > MAX_FILE_BYTES)
    fail('INVALID_DATASET', `${what} is larger than ${MAX_FILE_BYTES >> 20} MiB: not a judged query set`, 'name');
  return readFileSync(path, 'utf8');
}

export const datasetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['datasets'];
  app.get(
    '/datasets',
    {
      config: { access: 'read' },
      schema: { tags, summary: 'BEIR datasets under LSR_DATASET_ROOTS', response: withErrors({ 200: DatasetList }) },
    },
    async () => {
      const seen = new Map<string, string[]>();
      for (const root of realRoots()) {
        for (const e of readdirSync(root, { withFileTypes: true })) {
          if (seen.has(e.name) || e.name.startsWith('.') || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(e.name)) continue;
          let real: string;
          try {
            real = realpathSync(join(root, e.name));
          } catch {
            continue;
          }
          if (!isInside(root, real) || real === root || !statSync(real).isDirectory()) continue;
          const splits = splitsOf(real);
          if (splits.length > 0) seen.set(e.name, splits);
        }
      }
      return { datasets: [...seen].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, splits]) => ({ name, splits })) };
    },
  );

  app.get(
    '/datasets/:name/judgments',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "A dataset split's judged queries and its qrels (not the corpus)",
        params: DatasetParams,
        querystring: DatasetQuery,
        response: withErrors({ 200: DatasetJudgments }),
      },
    },
    async (req) => {
      const { name } = req.params;
      const split = req.query.split ?? 'test';
      const dir = datasetDir(name);
      if (!splitsOf(dir).includes(split))
        fail('DATASET_NOT_FOUND', `dataset '${name}' has no split '${split}' (it has ${splitsOf(dir).join(', ')})`, 'split');
      const qrels: { query: string; doc: string; relevance: number }[] = [];
      const qrelsFile = `${name}/qrels/${split}.tsv`;
      for (const [n, line] of readText(join(dir, 'qrels', `${split}.tsv`), qrelsFile)
        .split('\n')
        .entries()) {
        const f = line.trim().split(/\s+/);
        if (f[0] === '' || (n === 0 && f[0] === 'query-id')) continue;
        const rel = Number(f[2]);
        if (f.length !== 3 || !Number.isInteger(rel))
          fail('INVALID_DATASET', `${qrelsFile} line ${n + 1}: expected "query-id corpus-id score" with an integer score`, 'name');
        qrels.push({ query: f[0], doc: f[1], relevance: rel });
      }
      const judged = new Set(qrels.map((q) => q.query));
      const queries: { id: string; text: string }[] = [];
      for (const [n, line] of readText(join(dir, 'queries.jsonl'), `${name}/queries.jsonl`).split('\n').entries()) {
        if (line.trim() === '') continue;
        let o: { _id?: unknown; text?: unknown };
        try {
          o = JSON.parse(line);
        } catch {
          fail('INVALID_DATASET', `${name}/queries.jsonl line ${n + 1} is not JSON`, 'name');
        }
        if (typeof o._id !== 'string' || typeof o.text !== 'string')
          fail('INVALID_DATASET', `${name}/queries.jsonl line ${n + 1}: needs string "_id" and "text"`, 'name');
        if (judged.has(o._id)) queries.push({ id: o._id, text: o.text });
      }
      return { name, split, queries, qrels };
    },
  );
};
