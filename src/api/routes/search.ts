// Search: the request is validated by its schema, planned and run by search/search.ts (one
// retriever) or search/hybrid.ts (several, fused).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { isPlainObject } from '../../collections/documents.js';
import { defaultFusion, saveDefaultFusion } from '../../search/default-fusion.js';
import { checkHybridRequest, hybridFieldError } from '../../search/hybrid.js';
import { searchAsync, type SearchRequest } from '../../search/search.js';
import { fail } from '../../errors.js';
import type { Service } from '../service.js';
import { DefaultFusionBody, DefaultFusionView, NameParams, SearchBody, SearchResponse, withErrors } from '../schemas.js';

export const searchRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/collections/:name/search',
    {
      config: { access: 'read' },
      // The schema's error for a hybrid request is often only "fusion must match a schema in anyOf";
      // hybridFieldError names the exact field, so schema errors are handled below.
      attachValidation: true,
      schema: {
        tags: ['search'],
        summary: 'Search a collection (one retriever, or several fused: see docs/search.md)',
        params: NameParams,
        body: SearchBody,
        response: withErrors({ 200: SearchResponse }),
      },
    },
    async (req) => {
      if (req.validationError) {
        const body = req.body as unknown;
        const err = req.validationError as { validation?: { instancePath?: string; keyword?: string }[]; validationContext?: string };
        const path = err.validation?.[0]?.instancePath ?? '';
        // The body's own `not` (retriever with retrievers, fusion without retrievers) fails at the
        // root, before the fields are checked: the same checks give the exact message.
        const betweenFields = path === '' && err.validation?.[0]?.keyword === 'not';
        if (
          err.validationContext === 'body' &&
          isPlainObject(body) &&
          (betweenFields || /^\/(retrievers|fusion|retriever)(\/|$)/.test(path))
        ) {
          hybridFieldError(body);
          if (betweenFields) checkHybridRequest(body as unknown as SearchRequest);
        }
        throw req.validationError;
      }
      const c = await service.registry.lookup(req.params.name);
      let r: Awaited<ReturnType<typeof searchAsync>>;
      try {
        // The schema's retriever names are a union built from RETRIEVERS, which TypeBox types loosely.
        r = await searchAsync(c, req.body as SearchRequest);
      } catch (e) {
        // Deleted while this search ran on a native thread: the collection is gone, not broken.
        if (!c.isOpen) fail('COLLECTION_NOT_FOUND', `collection '${c.name}' was deleted`, 'name');
        throw e;
      }
      service.metrics.searches.inc({ collection: c.name, retriever: r.retriever });
      return r;
    },
  );

  // The collection's default fusion: what a hybrid request without `fusion` is fused by
  // (search/default-fusion.ts), e.g. the setting `lsr eval --tune --save-fusion` chose.
  app.get(
    '/collections/:name/default-fusion',
    {
      config: { access: 'read' },
      schema: {
        tags: ['search'],
        summary: "The collection's default fusion (null: RRF, k 60)",
        params: NameParams,
        response: withErrors({ 200: DefaultFusionView }),
      },
    },
    async (req) => ({ fusion: (await defaultFusion(await service.registry.lookup(req.params.name))) ?? null }),
  );
  app.put(
    '/collections/:name/default-fusion',
    {
      config: { access: 'write' },
      schema: {
        tags: ['search'],
        summary: 'Sets the fusion a hybrid request without `fusion` uses',
        params: NameParams,
        body: DefaultFusionBody,
        response: withErrors({ 200: DefaultFusionView }),
      },
    },
    async (req) => ({ fusion: (await saveDefaultFusion(await service.registry.lookup(req.params.name), req.body)) ?? null }),
  );
  app.delete(
    '/collections/:name/default-fusion',
    {
      config: { access: 'write' },
      schema: {
        tags: ['search'],
        summary: 'Removes the default fusion (hybrid requests without `fusion` use RRF, k 60)',
        params: NameParams,
        response: withErrors({ 200: DefaultFusionView }),
      },
    },
    async (req) => {
      await saveDefaultFusion(await service.registry.lookup(req.params.name), null);
      return { fusion: null };
    },
  );
};
