// Ingest job status.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fail } from '../../errors.js';
import type { Service } from '../service.js';
import { JobList, JobParams, JobsQuery, JobView, MAX_JOBS_LISTED, withErrors } from '../schemas.js';

export const jobRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  const tags = ['jobs'];
  app.get(
    '/jobs',
    {
      attachValidation: true,
      schema: {
        tags,
        summary: `Recent ingest jobs (up to ${MAX_JOBS_LISTED}), newest first`,
        querystring: JobsQuery,
        response: withErrors({ 200: JobList }),
      },
    },
    async (req) => {
      if (req.validationError) {
        const limit = (req.query as { limit?: unknown }).limit;
        if (limit !== undefined)
          fail('VALIDATION_FAILED', `limit must be an integer from 1 to ${MAX_JOBS_LISTED}, got ${JSON.stringify(limit)}`, 'limit');
        throw req.validationError;
      }
      return { jobs: await service.jobs.viewsAnywhere(req.query.limit === undefined ? MAX_JOBS_LISTED : Number(req.query.limit)) };
    },
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
      const v = await service.jobs.viewAnywhere(req.params.id);
      if (!v) fail('JOB_NOT_FOUND', `job '${req.params.id}' does not exist`, 'id');
      return v;
    },
  );
  // This plugin serves the job reports, so it closes their store with the app.
  app.addHook('onClose', async () => {
    await service.jobs.flushShared();
    service.jobs.close();
  });
};
