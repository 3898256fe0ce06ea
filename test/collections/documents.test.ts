// Document ids: 1-512 printable characters; anything else is INVALID_DOCUMENT naming the field.
import { describe, expect, it } from 'vitest';
import { ID_PATTERN, MAX_ID_CHARS, validateId } from '../../src/collections/documents.js';

const refused = (id: unknown, field = '_id') => {
  try {
    validateId(id, field);
  } catch (e) {
    return e as { code: string; field: string; message: string };
  }
  throw new Error(`${JSON.stringify(id)} was accepted`);
};

describe('validateId', () => {
  it('takes printable ids of 1 to 512 characters, Unicode included', () => {
    for (const id of [
      'a',
      'doc 1',
      'x'.repeat(MAX_ID_CHARS),
      'café',
      '日本語',
      'emoji 😀',
      'nbsp\u00a0here',
      'tab-like \u2028 separator',
      '%00',
    ])
      expect(validateId(id)).toBe(id);
  });

  it.each([
    ['NUL', 'a\u0000b', 'U+0000 at position 1'],
    ['tab', '\tx', 'U+0009 at position 0'],
    ['newline', 'x\n', 'U+000A at position 1'],
    ['unit separator', 'x\u001f', 'U+001F'],
    ['DEL', 'x\u007f', 'U+007F'],
    ['C1 NEL', 'x\u0085', 'U+0085'],
    ['C1 APC', 'x\u009f', 'U+009F'],
  ])('refuses a control character (%s), naming it and its position', (_name, id, where) => {
    expect(refused(id)).toMatchObject({ code: 'INVALID_DOCUMENT', field: '_id', message: expect.stringContaining(where) });
  });

  it('refuses lone surrogates, and takes a surrogate pair', () => {
    for (const id of ['a\ud800', '\udc00b', 'a\udc00\ud800b'])
      expect(refused(id)).toMatchObject({ code: 'INVALID_DOCUMENT', field: '_id', message: expect.stringContaining('lone surrogate') });
    expect(validateId('\ud83d\ude00')).toBe('😀');
  });

  it('keeps the length and type rules, and names the field it is given', () => {
    expect(refused('')).toMatchObject({ code: 'INVALID_DOCUMENT', field: '_id' });
    expect(refused('x'.repeat(MAX_ID_CHARS + 1))).toMatchObject({ code: 'INVALID_DOCUMENT', field: '_id' });
    expect(refused(7)).toMatchObject({ code: 'INVALID_DOCUMENT', field: '_id' });
    expect(refused(undefined)).toMatchObject({ code: 'MISSING_ID', field: '_id' });
    expect(refused('a\u0000', 'id')).toMatchObject({ code: 'INVALID_DOCUMENT', field: 'id', message: expect.stringMatching(/^id must /) });
  });

  it('the schema pattern refuses the same control characters (as ajv reads it, with the u flag)', () => {
    const re = new RegExp(ID_PATTERN, 'u');
    for (const c of ['\u0000', '\u001f', '\u007f', '\u0080', '\u009f']) expect(re.test(`a${c}b`)).toBe(false);
    for (const id of ['a', 'café', '😀', '\u00a0']) expect(re.test(id)).toBe(true);
  });
});
