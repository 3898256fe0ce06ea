// The models in the server's model cache (what `lsr models pull` fetched), by source, so a client
// (the console's create form) can offer them. Read from each folder's manifest.json only: the files
// are verified when a collection opens the model, not here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { modelCacheDir } from '../../config.js';
import { slugOf } from '../../encoder/model-source.js';
import { ModelList, withErrors } from '../schemas.js';

/** Sources of the cache's complete models: a manifest.json whose source names its own folder. */
export function cachedSources(cache = modelCacheDir()): string[] {
  if (!existsSync(cache)) return [];
  const out: string[] = [];
  for (const e of readdirSync(cache, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    try {
      const source = JSON.parse(readFileSync(join(cache, e.name, 'manifest.json'), 'utf8')).source;
      if (typeof source === 'string' && slugOf(source) === e.name) out.push(source);
    } catch {
      // no manifest (an interrupted fetch) or a broken one: not offered; `lsr models list` says why
    }
  }
  return out.sort();
}

export const modelRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/models',
    {
      config: { access: 'read' },
      schema: {
        tags: ['collections'],
        summary: "The models in the server's model cache, by source (for a retriever's `model`)",
        response: withErrors({ 200: ModelList }),
      },
    },
    async () => ({ models: cachedSources().map((source) => ({ source })) }),
  );
};
