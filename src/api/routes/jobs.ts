// Ingest job status.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fail } from '../../errors.js';
import type { Service } from '../service.js';
import { JobList, JobParams, JobView, withErrors } from '../schemas.js';

export const jobRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  const tags = ['jobs'];
  app.get(
    '/jobs',
    { schema: { tags, summary: 'Recent ingest jobs (up to 100), newest first', response: withErrors({ 200: JobList }) } },
    async () => ({
      jobs: service.jobs.views(100),
    }),
  );
  app.get(
    '/jobs/:id',
    {
      schema: {
        tags,
        summary: 'An ingest job: state, counts, per-line errors, rate, ETA',
        params: JobParams,
        response: withErrors({ 200: JobView }),
      },
    },
    async (req) => {
      const v = service.jobs.view(req.params.id);
      if (!v) fail('JOB_NOT_FOUND', `job '${req.params.id}' does not exist`, 'id');
      return v;
    },
  );
  // This plugin serves the job reports, so it closes their store with the app.
  app.addHook('onClose', async () => service.jobs.close());
};
