// Turns one client document (an NDJSON line or a JSON body) into what the store keeps, refusing
// malformed input with a code and the field at fault.
import { fail } from '../errors.js';
import type { Analyzer } from '../text/analyzer.js';
import { termCounts } from '../text/analyzer.js';
import type { NewDocument } from '../store/document-store.js';
import type { CollectionConfig } from './collection-config.js';

/** Longest accepted `_id`, in characters. */
export const MAX_ID_CHARS = 512;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** C0 and C1 control characters and DEL, which an id may not hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** No control character, as a JSON schema pattern (ajv matches with the `u` flag). */
export const ID_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]+$';

/**
 * A document id: a string of 1 to MAX_ID_CHARS printable characters (no control characters
 * U+0000-U+001F, U+007F-U+009F, and no lone surrogate, which has no UTF-8 form). `field` is `_id`
 * for a document, `id` for a path.
 */
export function validateId(id: unknown, field = '_id'): string {
  if (id === undefined || id === null) fail('MISSING_ID', 'every document needs an `_id` string', field);
  if (typeof id !== 'string') fail('INVALID_DOCUMENT', `${field} must be a string, got ${Array.isArray(id) ? 'array' : typeof id}`, field);
  if (id.length === 0 || id.length > MAX_ID_CHARS)
    fail('INVALID_DOCUMENT', `${field} must have 1 to ${MAX_ID_CHARS} characters, got ${id.length}`, field);
  const c = CONTROL.exec(id);
  if (c)
    fail(
      'INVALID_DOCUMENT',
      `${field} must hold printable characters only, got control character U+${c[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${c.index}`,
      field,
    );
  if (LONE_SURROGATE.test(id)) fail('INVALID_DOCUMENT', `${field} must be well-formed Unicode, got a lone surrogate`, field);
  return id;
}

export function prepareDocument(raw: unknown, config: CollectionConfig, analyzer: Analyzer): NewDocument {
  if (!isPlainObject(raw))
    fail('INVALID_DOCUMENT', `a document must be a JSON object, got ${Array.isArray(raw) ? 'array' : raw === null ? 'null' : typeof raw}`);
  const id = validateId(raw._id);
  const metadata = raw.metadata ?? {};
  if (!isPlainObject(metadata)) fail('INVALID_DOCUMENT', 'metadata must be a JSON object', 'metadata');
  const texts: string[] = [];
  for (const f of config.fields) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string')
      fail('INVALID_DOCUMENT', `text field '${f}' must be a string, got ${Array.isArray(v) ? 'array' : typeof v}`, f);
    texts.push(v);
  }
  // fromEntries defines own properties, so a `__proto__` key stays data and cannot reach a prototype.
  const fields = Object.fromEntries(Object.entries(raw).filter(([k]) => k !== '_id' && k !== 'metadata'));
  // Title and text form one BM25 field, as in Anserini's flat BEIR indexes.
  const terms = analyzer.analyze(texts.join(' '));
  return {
    id,
    fields: JSON.stringify(fields),
    metadata: JSON.stringify(metadata),
    counts: termCounts(terms),
    dl: terms.length,
    text: texts.join(' '),
  };
}
