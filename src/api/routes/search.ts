// Search: the request is validated by its schema, planned and run by search/search.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { search } from '../../search/search.js';
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
      const r = search(c, req.body);
      service.metrics.searches.inc({ collection: c.name, retriever: r.retriever });
      return r;
    },
  );
};
