// Liveness, readiness and Prometheus metrics; public so orchestrators need no key.
import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Service } from '../service.js';
import { withErrors } from '../schemas.js';

const Status = Type.Object({ status: Type.String() });

export const healthRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { tags: ['operations'], summary: 'Liveness', response: withErrors({ 200: Status }) } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: { tags: ['operations'], summary: 'Readiness: 503 while shutting down', response: withErrors({ 200: Status }) },
    },
    async (_req, reply) => {
      if (service.shutdown.signal.aborted) {
        return reply
          .code(503)
          .send({ statusCode: 503, code: 'SHUTTING_DOWN', error: 'Service Unavailable', message: 'the server is shutting down' } as never);
      }
      return { status: 'ready' };
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        response: withErrors({ 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } } }),
      },
    },
    async (_req, reply) => {
      return reply.type('text/plain; version=0.0.4').send(service.metrics.render());
    },
  );
};
