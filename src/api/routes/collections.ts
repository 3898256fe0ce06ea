// Collections: create, list, get with stats, delete.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Collection } from '../../collections/collection.js';
import type { Service } from '../service.js';
import { CollectionList, CollectionView, CreateCollectionBody, Deleted, NameParams, withErrors } from '../schemas.js';

export async function collectionView(c: Collection) {
  return {
    name: c.name,
    backend: c.config.backend ?? { kind: 'embedded' },
    fields: c.config.fields,
    retrievers: c.config.retrievers,
    default_retriever: c.config.defaultRetriever,
    created_at: c.config.createdAt,
    stats: await c.statsNow(),
  };
}

export const collectionRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  const { registry } = service;
  const tags = ['collections'];

  app.post(
    '/collections',
    { schema: { tags, summary: 'Create a collection', body: CreateCollectionBody, response: withErrors({ 201: CollectionView }) } },
    async (req, reply) => {
      const c = await registry.create(req.body);
      return reply.code(201).send(await collectionView(c));
    },
  );

  app.get('/collections', { schema: { tags, summary: 'List collections', response: withErrors({ 200: CollectionList }) } }, async () => ({
    collections: await Promise.all((await registry.listAll()).map(collectionView)),
  }));

  app.get(
    '/collections/:name',
    { schema: { tags, summary: 'Get a collection and its stats', params: NameParams, response: withErrors({ 200: CollectionView }) } },
    async (req) => collectionView(await registry.lookup(req.params.name)),
  );

  app.delete(
    '/collections/:name',
    { schema: { tags, summary: 'Delete a collection and its data', params: NameParams, response: withErrors({ 200: Deleted }) } },
    async (req) => {
      await registry.delete(req.params.name);
      return { deleted: 1 };
    },
  );
};
