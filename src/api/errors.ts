// Code -> HTTP status: the only place a status is chosen. The codes and their meanings are the
// domain's (src/errors.ts); `Record<ErrorCode, …>` makes a code without a status a compile error.
import type { ErrorCode, ServiceError } from '../errors.js';

/** Client mistakes are 4xx; 5xx only for faults of the service itself or a service that is going away. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  INVALID_UTF8: 400,
  INVALID_COLLECTION_NAME: 400,
  INVALID_FILTER: 400,
  INVALID_QUERY: 400,
  UNKNOWN_RETRIEVER: 400,
  INVALID_MODEL: 400,
  RESULT_WINDOW_TOO_LARGE: 400,
  INVALID_DOCUMENT: 400,
  MISSING_ID: 400,
  DUPLICATE_ID: 400,
  DOCUMENT_TOO_LARGE: 413,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  COLLECTION_NOT_FOUND: 404,
  DOCUMENT_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  DATASET_NOT_FOUND: 404,
  INVALID_DATASET: 400,
  COLLECTION_EXISTS: 409,
  COLLECTION_BUSY: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  URI_TOO_LONG: 414,
  RATE_LIMITED: 429,
  SHUTTING_DOWN: 503,
  ENCODER_CLOSED: 503,
  CUDA_UNAVAILABLE: 503,
  BACKEND_UNAVAILABLE: 503,
  BACKEND_BUSY: 503,
  BACKEND_REJECTED: 502,
  BACKEND_NOT_CONFIGURED: 400,
  UNSUPPORTED_BY_BACKEND: 400,
  INTERNAL: 500,
};

export function statusOf(e: ServiceError): number {
  return ERROR_STATUS[e.code];
}

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
  field?: string;
}
