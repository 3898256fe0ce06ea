// src/client/openapi.ts is generated from the service's OpenAPI document and committed: it must be
// what the generator writes for the route schemas as they are now (npm run gen:client rewrites it).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generateClientTypes, OUTPUT } from '../../tools/openapi-gen/generate.js';

describe('src/client/openapi.ts', () => {
  it('is up to date with the route schemas (else: npm run gen:client)', async () => {
    const committed = await readFile(OUTPUT, 'utf8');
    const fresh = await generateClientTypes();
    // A plain equality check: a diff of a 3,000-line file would bury the hint.
    expect(committed === fresh, 'src/client/openapi.ts is out of date with the route schemas: run npm run gen:client').toBe(true);
  });
});
