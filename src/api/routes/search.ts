// Search: the request is validated by its schema, planned and run by search/search.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { searchAsync } from '../../search/search.js';
import { fail } from '../errors.js';
import type { Service } from '../service.js';
import { NameParams, SearchBody, SearchResponse, withErrors } from '../schemas.js';

export const searchRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/collections/:name/search',
    {
      config: { access: 'read' },
      schema: { tags: ['search'], summary: 'Search a collection', params: NameParams, body: SearchBody, response: withErrors({ 200: SearchResponse }) },
    },
    async (req) => {
      const c = service.registry.get(req.params.name);
      let r;
      try {
        r = await searchAsync(c, req.body);
      } catch (e) {
        // Deleted while this search ran on a native thread: the collection is gone, not broken.
        if (!c.store.db.open) fail('COLLECTION_NOT_FOUND', `collection '${c.name}' was deleted`, 'name');
        throw e;
      }
      service.metrics.searches.inc({ collection: c.name, retriever: r.retriever });
      return r;
    },
  );
};
