// Builds the Fastify app: parsers, the error table's handler, auth, metrics, OpenAPI and routes.
// server.ts listens and handles signals; tests build the app and listen on loopback themselves.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { IndexError } from '../../index/index.js';
import type { Config } from '../config.js';
import { JobRegistry } from '../collections/ingest-job.js';
import { CollectionRegistry } from '../collections/registry.js';
import { EncoderRegistry } from '../encoder/encoder-registry.js';
import { registerAuth, registerRateLimit } from './auth.js';
import { isServiceError, ServiceError, type ErrorCode } from '../errors.js';
import { ERROR_STATUS, statusOf, type ErrorBody } from './errors.js';
import { Metrics } from './metrics.js';
import { collectionRoutes } from './routes/collections.js';
import { documentRoutes } from './routes/documents.js';
import { encodeRoutes } from './routes/encode.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { searchRoutes } from './routes/search.js';
import { accessRoutes } from './routes/access.js';
import { modelRoutes } from './routes/models.js';
import { datasetRoutes } from './routes/datasets.js';
import { uiRoutes } from './routes/ui.js';
import { ErrorResponse } from './schemas.js';
import { validateFilter } from '../backends/filter.js';
import { validateId } from '../collections/documents.js';
import type { Service } from './service.js';
import { STATUS_CODES } from 'node:http';

export interface BuiltApp {
  app: FastifyInstance;
  service: Service;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Turns an ajv error into our code and a dotted field name (`filter.year`, `k`). */
function validationError(errs: AjvError[], context: string): ServiceError {
  const e = errs[0];
  const path = e.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') path.push(String(e.params.missingProperty));
  if (e.keyword === 'additionalProperties') path.push(String(e.params.additionalProperty));
  const field = path.join('.');
  let code: ErrorCode = 'VALIDATION_FAILED';
  if (path[0] === 'filter') code = 'INVALID_FILTER';
  else if (path[0] === 'name' && (context === 'params' || context === 'body') && e.keyword === 'pattern') code = 'INVALID_COLLECTION_NAME';
  const what = field || context;
  let msg = `${what} ${e.message ?? 'is invalid'}`;
  if (e.keyword === 'additionalProperties') msg = `${what} is not a known property`;
  return new ServiceError(code, `${context}: ${msg}`, field || undefined);
}

/** Fastify's own errors (parsers, limits) mapped onto the table. */
function fromFastify(err: FastifyError): ServiceError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServiceError('BODY_TOO_LARGE', err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new ServiceError('UNSUPPORTED_MEDIA_TYPE', err.message, 'content-type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ServiceError('INVALID_JSON', err.message);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ServiceError('VALIDATION_FAILED', err.message, 'content-length');
    case 'FST_ERR_BAD_URL':
      // A path whose percent-encoding does not decode (`%ff`, a lone `%`, bytes that are not UTF-8).
      return new ServiceError(
        'VALIDATION_FAILED',
        `${err.message}: each %XX in a path must encode UTF-8 bytes (é is %C3%A9; a literal % is %25)`,
        'path',
      );
  }
  if (err.statusCode === 414 || err.code === 'FST_ERR_MAX_PARAM_LENGTH') return new ServiceError('URI_TOO_LONG', err.message);
  if (err.statusCode === 413) return new ServiceError('BODY_TOO_LARGE', err.message);
  if (err.statusCode === 415) return new ServiceError('UNSUPPORTED_MEDIA_TYPE', err.message, 'content-type');
  if (err.statusCode === 404) return new ServiceError('ROUTE_NOT_FOUND', err.message);
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
    return new ServiceError('VALIDATION_FAILED', err.message);
  return undefined;
}

function errorBody(e: ServiceError): ErrorBody {
  const statusCode = statusOf(e);
  return {
    statusCode,
    code: e.code,
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: e.message,
    ...(e.field !== undefined ? { field: e.field } : {}),
  };
}

export async function buildApp(config: Config, logger: FastifyServerOptions['logger'] = false): Promise<BuiltApp> {
  const app = Fastify({
    logger,
    // One log line per request would cost more than a search; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // Keep client input as sent: no coercion ("10" is not 10) and unknown properties are refused,
    // not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // Errors Fastify answers before routing (a path that does not decode) get the table's body too.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const e = fromFastify(err) ?? new ServiceError('VALIDATION_FAILED', err.message);
      void reply.code(statusOf(e)).type('application/json').send(errorBody(e));
    },
    // Document ids may be up to 512 characters, percent-encoded up to 9 bytes each.
    routerOptions: { maxParamLength: 8192 },
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  const encoders = new EncoderRegistry({ workers: config.encoderWorkers, threads: config.encoderThreads, device: config.encoderDevice });
  const registry = await CollectionRegistry.open(config.dataDir, app.log, encoders, {
    ...(config.opensearch ? { opensearch: config.opensearch } : {}),
    defaultBackend: config.defaultBackend,
  });
  const service: Service = {
    config,
    registry,
    jobs: JobRegistry.open(config.dataDir),
    metrics: new Metrics(),
    encoders,
    shutdown: new AbortController(),
  };
  // Reports of jobs on OpenSearch-backed collections are mirrored in the cluster, so any service
  // process sharing it answers for them (docs/scale-out.md).
  const cluster = registry.cluster;
  if (cluster) {
    service.jobs.shared = {
      save: (v) => cluster.saveJob(v),
      job: (id) => cluster.job(id),
      recentJobs: (n) => cluster.recentJobs(n),
    };
    service.jobs.log = app.log;
    // Jobs a crash of this process cut short: their shared reports said `running`; now they say failed.
    await service.jobs.mirrorInterrupted((name) => registry.has(name) && registry.get(name).config.backend?.kind === 'opensearch');
  }

  app.addSchema(ErrorResponse);

  // JSON bodies are parsed from bytes so invalid UTF-8 is refused instead of turned into U+FFFD.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = utf8.decode(buf);
    } catch {
      return done(new ServiceError('INVALID_UTF8', 'request body is not valid UTF-8'), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new ServiceError('INVALID_JSON', `request body is not valid JSON: ${(e as Error).message}`), undefined);
    }
  });
  // NDJSON is handed to the route as the raw stream: bulk bodies are never buffered.
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl'], (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err: FastifyError & { validation?: AjvError[]; validationContext?: string }, req, reply) => {
    let e: ServiceError | undefined;
    if (isServiceError(err)) e = err;
    else if (err.validation) {
      e = validationError(err.validation, err.validationContext ?? 'request');
      // The schema says only "filter.x must match anyOf"; the filter's own check names the exact
      // operator or value at fault.
      const filter = (req.body as { filter?: unknown } | undefined)?.filter;
      if (e.code === 'INVALID_FILTER' && filter !== undefined) {
        try {
          validateFilter(filter);
        } catch (fe) {
          if (isServiceError(fe)) e = fe;
        }
      }
      // A document id in the path: the id's own check names the character at fault.
      const id = (req.params as { id?: unknown } | undefined)?.id;
      if (
        err.validationContext === 'params' &&
        e.field === 'id' &&
        typeof id === 'string' &&
        req.routeOptions.url?.includes('/documents/')
      ) {
        try {
          validateId(id, 'id');
        } catch (ie) {
          if (isServiceError(ie)) e = ie;
        }
      }
    } else if (err instanceof IndexError && err.code === 'INVALID_ARGUMENT') e = new ServiceError('VALIDATION_FAILED', err.message);
    else e = fromFastify(err);
    if (!e) {
      req.log.error({ err }, 'internal error');
      e = new ServiceError('INTERNAL', 'internal error; see the server log');
    }
    const body = errorBody(e);
    if (body.statusCode >= 500) req.log.error({ err }, e.message);
    void reply.code(body.statusCode).type('application/json').send(body);
  });
  // Every route's path as a pattern with its methods, so a known path asked with another method is
  // answered 405 with the methods it takes (Fastify itself answers 404 for both).
  const routes = new Map<string, { re: RegExp; rank: number[]; methods: Set<string> }>();
  app.addHook('onRoute', (r) => {
    let route = routes.get(r.url);
    if (!route) {
      const segs = r.url.split('/');
      const re = segs.map((seg) => (seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      // As the router ranks them: a static segment before a parameter before a wildcard.
      const rank = segs.map((seg) => (seg.startsWith(':') ? 1 : seg === '*' ? 2 : 0));
      route = { re: new RegExp(`^${re.join('/')}$`), rank, methods: new Set() };
      routes.set(r.url, route);
    }
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) route.methods.add(m);
  });
  /** The methods of the route the router would pick for this path (`/documents/delete` is not `/documents/:id`). */
  const allowedMethods = (path: string): Set<string> | undefined => {
    const before = (a: number[], b: number[]) => {
      const i = a.findIndex((x, k) => x !== b[k]);
      return i >= 0 && i < b.length && a[i] < b[i];
    };
    let best: { rank: number[]; methods: Set<string> } | undefined;
    for (const r of routes.values()) if (r.re.test(path) && (!best || before(r.rank, best.rank))) best = r;
    return best?.methods;
  };
  app.setNotFoundHandler({}, (req, reply) => {
    const e = new ServiceError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    void reply.code(404).send(errorBody(e));
  });

  registerAuth(app, config.apiKeys);
  registerRateLimit(app, config.rateLimit);
  // Before the body is read: an unrouted QUERY without a content type is still a 405, not a 400.
  // A callback hook, not an async one: it runs on every request, and an async hook's promise cost
  // bench/http ~7% of its HTTP throughput.
  app.addHook('onRequest', (req, reply, done) => {
    if (!req.is404) return done();
    const path = req.url.split('?')[0];
    const allowed = allowedMethods(path);
    if (!allowed || allowed.has(req.method)) return done();
    const allow = [...allowed].sort().join(', ');
    reply.header('allow', allow);
    done(new ServiceError('METHOD_NOT_ALLOWED', `${path} does not take ${req.method}; it takes ${allow}`));
  });

  app.addHook('onResponse', async (req, reply) => {
    service.metrics.requestDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  service.metrics.gauge('lsr_collection_documents', 'Live documents per collection.', () =>
    registry.list().map((c) => ({ labels: { collection: c.name }, value: c.size })),
  );
  service.metrics.gauge('lsr_collection_bytes_on_disk', 'Store and index bytes per collection.', () =>
    registry.list().map((c) => ({ labels: { collection: c.name }, value: c.stats().bytes_on_disk })),
  );
  service.metrics.gauge('lsr_collection_segments', 'Index segments per collection.', () =>
    registry.list().map((c) => ({ labels: { collection: c.name }, value: c.stats().segments })),
  );
  service.metrics.gauge('lsr_ingest_jobs_running', 'Ingest jobs not yet committed or failed.', () => [
    { labels: {}, value: service.jobs.running().length },
  ]);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'lsr search service',
        version: '1',
        description:
          'A search service for learned sparse retrieval: collections of documents with metadata, NDJSON bulk ingest as jobs, and search by BM25, learned sparse models (SPLADE, inference-free), dense embeddings, or several of them fused (hybrid: RRF, convex, DBSF), under metadata filters, exact or approximate; plus SPLADE encoding (/v1/encode). Every error is an ErrorResponse with a stable code and the field at fault.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transformObject: (doc) => {
      const spec = (doc as { openapiObject: { paths?: Record<string, Record<string, Record<string, unknown>>> } }).openapiObject;
      // The bulk route reads its body as a stream, so it has no body schema for Fastify to show.
      const bulk = spec.paths?.['/v1/collections/{name}/documents']?.post;
      if (bulk)
        bulk.requestBody = { required: true, content: { 'application/x-ndjson': { schema: { type: 'string', format: 'binary' } } } };
      return spec;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () => app.swagger());

  await app.register(healthRoutes, { service });
  await app.register(collectionRoutes, { service, prefix: '/v1' });
  await app.register(documentRoutes, { service, prefix: '/v1' });
  await app.register(searchRoutes, { service, prefix: '/v1' });
  await app.register(jobRoutes, { service, prefix: '/v1' });
  await app.register(encodeRoutes, { service, prefix: '/v1' });
  await app.register(accessRoutes, { service, prefix: '/v1' });
  await app.register(modelRoutes, { prefix: '/v1' });
  await app.register(datasetRoutes, { prefix: '/v1' });
  await app.register(uiRoutes);

  // Before the server stops: running jobs stop reading and commit what they read, so their requests
  // end and the close is not held up by a client still streaming.
  app.addHook('preClose', async () => {
    service.shutdown.abort();
  });
  app.addHook('onClose', async () => {
    // Within the shutdown budget; the store already holds every acknowledged document, so giving
    // up after the timeout loses nothing.
    service.shutdown.abort();
    const running = service.jobs.running().map((j) => j.done);
    if (running.length) await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, config.shutdownTimeoutMs).unref())]);
    await registry.close();
    await encoders.close();
  });

  return { app, service };
}

export { ERROR_STATUS };
