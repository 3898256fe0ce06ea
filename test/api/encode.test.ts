// POST /v1/encode on a real listening server with the committed tiny model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpladeEncoder } from '../../src/encoder/sparse/splade-encoder.js';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { TINY_MODEL } from '../encoder/fixture.js';

let s: TestServer;
const MODEL = `dir:${TINY_MODEL}`;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
  removeDir(s.dataDir);
});

describe('POST /v1/encode', () => {
  it("returns each text's terms as {token, id, weight}, heaviest first, equal to the in-process encoder", async () => {
    const texts = ['The cats were studying cancer genes.', 'hello world'];
    const r = await s.req('POST', '/v1/encode', { model: MODEL, texts });
    expect(r.status).toBe(200);
    expect(r.body.vectors).toHaveLength(2);
    const enc = await SpladeEncoder.load(TINY_MODEL);
    const want = await enc.encode(texts);
    for (let x = 0; x < 2; x++) {
      const got = r.body.vectors[x] as { token: string; id: number; weight: number }[];
      expect(got.length).toBe(want.offsets[x + 1] - want.offsets[x]);
      for (let i = 1; i < got.length; i++) expect(got[i - 1].weight).toBeGreaterThanOrEqual(got[i].weight);
      for (const t of got) {
        expect(t.token).toBe(enc.tokenizer.token(t.id));
        const j = [...want.terms.subarray(want.offsets[x], want.offsets[x + 1])].indexOf(t.id);
        expect(j).toBeGreaterThanOrEqual(0);
        expect(t.weight).toBeCloseTo(want.weights[want.offsets[x] + j], 6);
      }
    }
    await enc.close();
    const top = await s.req('POST', '/v1/encode', { model: MODEL, texts, top_k: 3 });
    expect(top.body.vectors[0]).toEqual(r.body.vectors[0].slice(0, 3));
  });

  it('refuses a bad model or body with a coded error naming the field', async () => {
    const missing = await s.req('POST', '/v1/encode', { model: 'dir:/nonexistent/model', texts: ['x'] });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'INVALID_MODEL', field: 'model' });
    const scheme = await s.req('POST', '/v1/encode', { model: 'ftp:x', texts: ['x'] });
    expect(scheme.body).toMatchObject({ code: 'INVALID_MODEL', field: 'model' });
    const empty = await s.req('POST', '/v1/encode', { model: MODEL, texts: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe('VALIDATION_FAILED');
    expect(empty.body.field).toContain('texts');
  });
});
