// What the sparse and dense encoders' options share, checked once: integer settings with a floor,
// and the three both take (maxLength, batchSize, threads). Every refusal names `<field>.<option>`.
import { fail } from '../errors.js';

/** An optional integer option of at least `min`. */
export function checkIntOption(v: unknown, min: number, name: string, field: string): void {
  if (v !== undefined && (!Number.isInteger(v) || (v as number) < min))
    fail('VALIDATION_FAILED', `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`, `${field}.${name}`);
}

/** The options every encoder takes: tokens per text (>= 2: [CLS] and [SEP]), texts per batch, ONNX threads. */
export function checkCommonOptions(o: { maxLength?: unknown; batchSize?: unknown; threads?: unknown }, field: string): void {
  checkIntOption(o.maxLength, 2, 'maxLength', field);
  checkIntOption(o.batchSize, 1, 'batchSize', field);
  checkIntOption(o.threads, 1, 'threads', field);
}
