// Documents: NDJSON bulk ingest (a job), single upsert, get and delete by id, delete by filter.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { prepareDocument, validateId, isPlainObject } from '../../collections/documents.js';
import { IngestJob } from '../../collections/ingest-job.js';
import { runIngest } from '../../collections/ingest.js';
import { fail } from '../../errors.js';
import type { Service } from '../service.js';
import {
  Deleted,
  DeleteDocumentsBody,
  DocParams,
  DocumentView,
  IngestQuery,
  JobView,
  NameParams,
  PutDocumentBody,
  PutDocumentResponse,
  withErrors,
} from '../schemas.js';

const DELETE_KEYS = ['ids', 'filter', 'all'];

/**
 * The delete body's rule, with the field at fault: exactly one of `ids`, a non-empty `filter`, or
 * `all: true` (with no filter or the empty one). Field types are the schema's.
 */
function checkDeleteBody(body: unknown): { ids?: string[]; filter?: Record<string, unknown>; all: boolean } {
  if (!isPlainObject(body)) fail('VALIDATION_FAILED', 'body must be an object with `ids`, `filter` or `all`');
  for (const k of Object.keys(body)) if (!DELETE_KEYS.includes(k)) fail('VALIDATION_FAILED', `body: ${k} is not a known property`, k);
  const { ids, filter } = body;
  if (body.all !== undefined && typeof body.all !== 'boolean') fail('VALIDATION_FAILED', 'all must be true or false', 'all');
  const all = body.all === true;
  if (ids !== undefined && (filter !== undefined || all))
    fail('VALIDATION_FAILED', 'give exactly one of `ids`, `filter` or `all: true`', 'ids');
  if (all) {
    if (isPlainObject(filter) && Object.keys(filter).length > 0)
      fail('VALIDATION_FAILED', '`all: true` deletes every document; give it without `filter` (or with `{}`), or drop `all`', 'all');
    return { all };
  }
  if (ids === undefined && filter === undefined)
    fail('VALIDATION_FAILED', 'give one of `ids`, `filter` or `all: true` (every document)', 'ids');
  if (isPlainObject(filter) && Object.keys(filter).length === 0)
    fail('VALIDATION_FAILED', 'an empty filter matches every document: to delete them all, send {"all": true}', 'filter');
  return { ids: ids as string[] | undefined, filter: filter as Record<string, unknown> | undefined, all };
}

export const documentRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  const { registry, config, metrics } = service;
  const tags = ['documents'];

  app.post(
    '/collections/:name/documents',
    {
      schema: {
        tags,
        summary: 'Bulk ingest NDJSON (one document per line, streamed); returns the job',
        description:
          'Each line: {"_id": "...", "<text field>": "...", "metadata": {...}, ...}. An existing _id is replaced (upsert). 202 once the body is read; with wait=true, 200 once the job is committed.',
        consumes: ['application/x-ndjson'],
        params: NameParams,
        querystring: IngestQuery,
        response: withErrors({ 200: JobView, 202: JobView }),
      },
    },
    async (req, reply) => {
      const c = await registry.lookup(req.params.name);
      const body = req.body as unknown;
      if (!(body instanceof Readable))
        fail('UNSUPPORTED_MEDIA_TYPE', 'send documents as application/x-ndjson, one JSON object per line', 'content-type');
      if (service.shutdown.signal.aborted) fail('SHUTTING_DOWN', 'the server is shutting down');
      const length = Number(req.headers['content-length']);
      const job = new IngestJob(c.name, Number.isFinite(length) && length > 0 ? length : null);
      if (c.config.backend?.kind === 'opensearch') service.jobs.share(job);
      service.jobs.add(job);
      const bodyRead = new Promise<void>((resolve) => {
        body.once('end', resolve);
        body.once('close', resolve);
        body.once('error', () => resolve());
      });
      const run = runIngest(c, body, job, {
        batchSize: config.batchSize,
        maxDocumentBytes: config.maxDocumentBytes,
        signal: service.shutdown.signal,
        onCommitted: (n) => {
          metrics.ingestedDocuments.inc({ collection: c.name }, n);
          service.jobs.save(job);
        },
      }).then(() => {
        if (job.rejected) metrics.rejectedLines.inc({ collection: c.name }, job.rejected);
        service.jobs.save(job);
      });
      run.catch((err) => req.log.error({ err, job: job.id }, 'ingest job crashed'));
      if (req.query.wait === 'true') {
        await job.done;
        // The final report is saved (and mirrored to the cluster for an OpenSearch-backed collection)
        // before the answer, so any process asked next reads the same report.
        await run.catch(() => {});
        await service.jobs.mirroredOf(job.id);
        return reply.code(200).send(job.view());
      }
      await bodyRead;
      return reply.code(202).send(job.view());
    },
  );

  app.get(
    '/collections/:name/documents/:id',
    { schema: { tags, summary: 'Get a document by id', params: DocParams, response: withErrors({ 200: DocumentView }) } },
    async (req) => {
      const c = await registry.lookup(req.params.name);
      const doc = await c.getDocument(validateId(req.params.id, 'id'));
      if (!doc) fail('DOCUMENT_NOT_FOUND', `document '${req.params.id}' does not exist in '${c.name}'`, 'id');
      return { _id: doc.id, fields: doc.fields, metadata: doc.metadata };
    },
  );

  app.put(
    '/collections/:name/documents/:id',
    {
      schema: {
        tags,
        summary: 'Create or replace one document',
        params: DocParams,
        body: PutDocumentBody,
        response: withErrors({ 200: PutDocumentResponse, 201: PutDocumentResponse }),
      },
    },
    async (req, reply) => {
      const c = await registry.lookup(req.params.name);
      const id = validateId(req.params.id, 'id');
      const body = req.body as unknown;
      if (!isPlainObject(body)) fail('INVALID_DOCUMENT', 'the body must be a JSON object');
      if (body._id !== undefined && body._id !== id) fail('INVALID_DOCUMENT', '_id in the body must equal the id in the path', '_id');
      const doc = prepareDocument({ ...body, _id: id }, c.config, c.analyzer);
      const existed = (await c.docnoOf(id)) !== undefined;
      const r = await c.write([doc], null);
      const refused = r.rejected?.[0];
      if (refused) fail(refused.code, refused.message, refused.field);
      metrics.ingestedDocuments.inc({ collection: c.name });
      return reply.code(existed ? 200 : 201).send({ _id: id, result: existed ? 'updated' : 'created' });
    },
  );

  app.delete(
    '/collections/:name/documents/:id',
    { schema: { tags, summary: 'Delete a document by id', params: DocParams, response: withErrors({ 200: Deleted }) } },
    async (req) => {
      const c = await registry.lookup(req.params.name);
      const docno = await c.docnoOf(validateId(req.params.id, 'id'));
      if (docno === undefined) fail('DOCUMENT_NOT_FOUND', `document '${req.params.id}' does not exist in '${c.name}'`, 'id');
      return { deleted: await c.remove([docno]) };
    },
  );

  app.post(
    '/collections/:name/documents/delete',
    {
      // The schema states which of ids / filter / all may come together (its oneOf); when that is
      // what failed, checkDeleteBody names the field instead of "must match exactly one schema".
      attachValidation: true,
      schema: {
        tags,
        summary: 'Delete documents by ids, by metadata filter, or all of them',
        description:
          'Exactly one of `ids`, a `filter` with at least one condition, or `all: true`. An empty filter matches every document, so it is refused unless `all: true` says so.',
        params: NameParams,
        body: DeleteDocumentsBody,
        response: withErrors({ 200: Deleted }),
      },
    },
    async (req) => {
      if (req.validationError) {
        const v = req.validationError as { validation?: { instancePath?: string }[]; validationContext?: string };
        if (v.validationContext === 'body' && (v.validation?.[0]?.instancePath ?? '') === '') checkDeleteBody(req.body);
        throw req.validationError;
      }
      const c = await registry.lookup(req.params.name);
      const { ids, filter, all } = checkDeleteBody(req.body);
      let docnos: number[];
      if (ids) docnos = (await Promise.all(ids.map((id) => c.docnoOf(id)))).filter((d): d is number => d !== undefined);
      // The empty filter matches every document: what `all: true` asks for.
      else docnos = await c.docnosMatching(all ? {} : filter!);
      return { deleted: docnos.length ? await c.remove(docnos) : 0 };
    },
  );
};
