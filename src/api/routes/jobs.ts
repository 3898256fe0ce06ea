// Ingest job status.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { fail } from '../errors.js';
import type { Service } from '../service.js';
import { JobList, JobParams, JobView, withErrors } from '../schemas.js';

export const jobRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  const tags = ['jobs'];
  app.get('/jobs', { schema: { tags, summary: 'Recent ingest jobs, newest first', response: withErrors({ 200: JobList }) } }, async () => ({
    jobs: service.jobs.list().map((j) => j.view()),
  }));
  app.get('/jobs/:id', { schema: { tags, summary: 'An ingest job: state, counts, per-line errors, rate, ETA', params: JobParams, response: withErrors({ 200: JobView }) } }, async (req) => {
    const j = service.jobs.get(req.params.id);
    if (!j) fail('JOB_NOT_FOUND', `job '${req.params.id}' does not exist (jobs are kept in memory until restart)`, 'id');
    return j.view();
  });
};
