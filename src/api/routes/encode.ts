// SPLADE encoding as a service: texts in, sparse vectors out, through the shared encoder pools.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Service } from '../service.js';
import { EncodeBody, EncodeResponse, withErrors } from '../schemas.js';

export const encodeRoutes: FastifyPluginAsyncTypebox<{ service: Service }> = async (app, { service }) => {
  app.post(
    '/encode',
    {
      config: { access: 'read' },
      schema: {
        tags: ['encode'],
        summary: 'Encode texts into SPLADE sparse vectors',
        body: EncodeBody,
        response: withErrors({ 200: EncodeResponse }),
      },
    },
    async (req) => {
      const pool = await service.encoders.sparse(req.body.model, 'model');
      const v = await pool.encode(req.body.texts);
      const vectors = req.body.texts.map((_, x) => {
        const terms = [];
        for (let i = v.offsets[x]; i < v.offsets[x + 1]; i++)
          terms.push({ token: pool.tokenizer.token(v.terms[i]), id: v.terms[i], weight: v.weights[i] });
        terms.sort((a, b) => b.weight - a.weight || a.id - b.id);
        return req.body.top_k ? terms.slice(0, req.body.top_k) : terms;
      });
      return { model: req.body.model, vectors };
    },
  );
};
