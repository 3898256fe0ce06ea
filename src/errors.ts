// The service's one table of error codes. Domain code (collections, retrievers, search, encoders,
// backends) throws through `fail()` with a code, a message and the field at fault; it never picks an
// HTTP status: src/api/errors.ts alone maps a code to a status. The engine library (index/) has its
// own IndexError; the API translates its codes.

/** Every code with what it means; clients branch on the code, never on the message. */
export const ERROR_CODES = {
  VALIDATION_FAILED: 'a request or document field is malformed or out of range',
  INVALID_JSON: 'a body is not JSON',
  INVALID_UTF8: 'a body is not valid UTF-8',
  INVALID_COLLECTION_NAME: 'a collection name that cannot be a directory name',
  INVALID_FILTER: 'a metadata filter with an unknown operator or a value of the wrong type',
  INVALID_QUERY: 'a query that cannot be run (no text or vector, a bad weight, one of each)',
  UNKNOWN_RETRIEVER: 'a retriever the collection or the service does not have',
  INVALID_MODEL: 'a model that is missing, damaged, outside the model roots or in a layout the encoder cannot run',
  RESULT_WINDOW_TOO_LARGE: 'offset + k beyond the result window',
  INVALID_DOCUMENT: 'an NDJSON line that is not a document object',
  MISSING_ID: 'a document without `_id`',
  DUPLICATE_ID: 'an `_id` given twice in one job',
  DOCUMENT_TOO_LARGE: 'an NDJSON line over the document size limit',
  UNAUTHORIZED: 'no API key or an unknown one',
  FORBIDDEN: 'a key without the access the route needs',
  ROUTE_NOT_FOUND: 'no such route',
  METHOD_NOT_ALLOWED: 'a known path asked with a method it does not take (the Allow header lists those it takes)',
  COLLECTION_NOT_FOUND: 'no such collection',
  DOCUMENT_NOT_FOUND: 'no such document',
  JOB_NOT_FOUND: 'no such job',
  DATASET_NOT_FOUND: 'no such dataset (or split) under the dataset roots (LSR_DATASET_ROOTS)',
  INVALID_DATASET: 'a dataset folder whose queries or judgments cannot be read (the file and line are named)',
  COLLECTION_EXISTS: 'a collection of that name exists',
  COLLECTION_BUSY: 'the collection is being created or deleted',
  BODY_TOO_LARGE: 'a JSON body over the body limit',
  UNSUPPORTED_MEDIA_TYPE: 'a content type the route does not take',
  URI_TOO_LONG: 'a path parameter over its length limit',
  RATE_LIMITED: 'over the per-key request rate',
  SHUTTING_DOWN: 'the service or the collection is closing',
  ENCODER_CLOSED: 'the encoder pool was closed',
  CUDA_UNAVAILABLE: 'the encoder is configured for the GPU and this server has no CUDA build or no GPU',
  BACKEND_UNAVAILABLE:
    "the collection's OpenSearch cluster cannot be reached, refused the service's credentials, or has no copy of a shard to answer from",
  BACKEND_BUSY: "the collection's OpenSearch cluster is overloaded (it answered 429); retry later",
  BACKEND_REJECTED: "the collection's OpenSearch cluster refused a request of the service (its reason is quoted)",
  BACKEND_NOT_CONFIGURED: 'a collection asks for the OpenSearch backend and this server has no cluster configured',
  UNSUPPORTED_BY_BACKEND: "a feature the collection's backend does not have (it is refused, never approximated)",
  INTERNAL: 'a fault of the service itself (see the server log)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a code from the table and, when there is one, the field at fault. */
export class ServiceError extends Error {
  readonly code: ErrorCode;
  /** The request field (dotted path, `filter.year`, `retrievers[1].window`) or document field the error is about. */
  readonly field?: string;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    if (field !== undefined) this.field = field;
  }
}

export function fail(code: ErrorCode, message: string, field?: string): never {
  throw new ServiceError(code, message, field);
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof ServiceError;
}

/**
 * A ServiceError as a plain object, for throwing across a worker thread: structured clone keeps only
 * an Error's message and stack, so the code and field would be lost.
 */
export function toTransferable(e: unknown): unknown {
  return isServiceError(e) ? { serviceError: true, code: e.code, message: e.message, field: e.field } : e;
}

/** The ServiceError that toTransferable() sent; anything else unchanged. */
export function fromTransferable(e: unknown): unknown {
  const o = e as { serviceError?: unknown; code?: ErrorCode; message?: string; field?: string } | null;
  if (o !== null && typeof o === 'object' && o.serviceError === true && typeof o.code === 'string' && o.code in ERROR_CODES)
    return new ServiceError(o.code, String(o.message), o.field);
  return e;
}
