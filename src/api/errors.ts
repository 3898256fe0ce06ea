// The one table of coded errors. Every layer throws through `fail()` so the API maps a code to its
// HTTP status from this table and never guesses from a message; index/ errors carry a code too and
// are translated in `fromIndexError`.
import createError from '@fastify/error';

/** code -> HTTP status. Client mistakes are 4xx; 5xx only for faults of the service itself. */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_UTF8: 400,
  INVALID_COLLECTION_NAME: 400,
  INVALID_FILTER: 400,
  INVALID_QUERY: 400,
  UNKNOWN_RETRIEVER: 400,
  // A sparse model that is missing, damaged or not a masked-LM in a layout the encoder runs.
  INVALID_MODEL: 400,
  RESULT_WINDOW_TOO_LARGE: 400,
  INVALID_DOCUMENT: 400,
  MISSING_ID: 400,
  DUPLICATE_ID: 400,
  DOCUMENT_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  COLLECTION_NOT_FOUND: 404,
  DOCUMENT_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  COLLECTION_EXISTS: 409,
  COLLECTION_BUSY: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  URI_TOO_LONG: 414,
  RATE_LIMITED: 429,
  SHUTTING_DOWN: 503,
  ENCODER_CLOSED: 503,
  // The encoder is configured for the GPU (LSR_ENCODER_DEVICE=cuda) and this server has no CUDA build or no GPU.
  CUDA_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ServiceError extends Error {
  code: ErrorCode;
  statusCode: number;
  /** The request field (dotted path, `body.filter.year`) or document field the error is about. */
  field?: string;
}

// One @fastify/error constructor per code, built from the table so the two cannot drift apart.
const constructors = Object.fromEntries(
  Object.entries(ERROR_STATUS).map(([code, status]) => [code, createError(code, '%s', status)]),
) as Record<ErrorCode, ReturnType<typeof createError>>;

export function serviceError(code: ErrorCode, message: string, field?: string): ServiceError {
  const e = new constructors[code](message) as unknown as ServiceError;
  if (field !== undefined) e.field = field;
  return e;
}

export function fail(code: ErrorCode, message: string, field?: string): never {
  throw serviceError(code, message, field);
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as ServiceError).code === 'string' && (e as ServiceError).code in ERROR_STATUS;
}

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
  field?: string;
}
