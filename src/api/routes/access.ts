// What the caller's API key may do, so a client (the web console among them) can offer only the
// actions it will be allowed: a read-only key sees no create or ingest controls.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { keyAccess } from '../auth.js';
import { fail } from '../../errors.js';
import type { Service } from '../service.js';
import { AccessView, withErrors } from '../schemas.js';

export const accessRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  app.get(
    '/access',
    {
      config: { access: 'read' },
      schema: {
        tags: ['operations'],
        summary: "What the request's API key may do (read or write)",
        response: withErrors({ 200: AccessView }),
      },
    },
    async (req) => {
      const access = keyAccess(req, service.config.apiKeys);
      // The auth hook has already refused a missing or unknown key; this is its message if not.
      if (access === null) fail('UNAUTHORIZED', 'the API key is not valid', 'authorization');
      return { access, keys_required: service.config.apiKeys.length > 0 };
    },
  );
};
