// The teachers' collection: the corpus ingested into an embedded collection of the service's own
// engine, with one retriever per teacher (bm25, dense, splade) and an inference-free retriever of the
// base model in `idf: 'collection'` mode, whose document frequencies give idf.json. Documents go
// through the service's own preparation (collections/documents.ts prepareDocument: title and text
// joined with a space, as ingest and `lsr eval` do) and its write path (Collection.write: the
// encoders' worker pools, batches of LSR_BATCH_SIZE), so every score is the one a search would give.
// The collection stays in `<work>/engine` and is reused by a later prepare of the same corpus and
// models (new seeds, more queries) instead of being encoded again.
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../backends/embedded/index-side.js';
import type { Collection } from '../collections/collection.js';
import { prepareDocument } from '../collections/documents.js';
import { CollectionRegistry } from '../collections/registry.js';
import { EncoderRegistry } from '../encoder/encoder-registry.js';
import { streamCorpus } from '../eval/beir.js';
import { ProgressBar } from '../eval/progress.js';
import type { NewDocument } from '../store/document-store.js';
import type { Teacher } from './options.js';

/** The collection's name inside `<work>/engine`. */
export const ENGINE_COLLECTION = 'train';
/** The retriever idf.json is read from (the inference-free kind's name). */
export const IDF_RETRIEVER = 'inference_free';

/** A corpus document as prepare reads it: the BEIR fields and the text the encoders are fed. */
export interface CorpusDocument {
  id: string;
  title: string;
  body: string;
  /** What the service feeds the encoders for this document at ingest. */
  text: string;
}

export interface EngineOptions {
  /** corpus.jsonl */
  corpusPath: string;
  maxDocs: number | undefined;
  teachers: readonly Teacher[];
  /** Model sources as given (the collection config names them so). */
  base: string;
  denseModel: string;
  /** `<work>/engine` */
  dir: string;
  encoderWorkers: number;
  encoderThreads: number;
  encoderDevice: 'cpu' | 'cuda';
  batchSize: number;
  progress: boolean;
  log: (line: string) => void;
}

export interface Engine {
  collection: Collection;
  docs: CorpusDocument[];
  /** Document id -> the collection's document number. */
  docnos: Map<string, number>;
  /** Seconds spent encoding and indexing (0 when reused). */
  indexSeconds: number;
  reused: boolean;
  close(): Promise<void>;
}

/** The retrievers of the teachers' collection: each teacher's, and the base model's inference-free one. */
export function engineRetrievers(o: Pick<EngineOptions, 'teachers' | 'base' | 'denseModel'>): Record<string, unknown> {
  return {
    bm25: {},
    ...(o.teachers.includes('dense') ? { dense: { model: o.denseModel } } : {}),
    ...(o.teachers.includes('splade') ? { splade: { model: o.base, query: 'siamese' } } : {}),
    [IDF_RETRIEVER]: { model: o.base, idf: 'collection' },
  };
}

/** Reads the corpus (at most `maxDocs` documents, in file order); duplicate ids are an error. */
export async function readCorpus(
  path: string,
  maxDocs: number | undefined,
  toText: (d: CorpusDocument) => string,
): Promise<CorpusDocument[]> {
  const docs: CorpusDocument[] = [];
  const seen = new Set<string>();
  for await (const d of streamCorpus(path)) {
    if (maxDocs !== undefined && docs.length >= maxDocs) break;
    if (seen.has(d._id)) throw new Error(`${path}: document id "${d._id}" appears twice (training data is keyed by id)`);
    seen.add(d._id);
    const doc: CorpusDocument = { id: d._id, title: d.title, body: d.text, text: '' };
    doc.text = toText(doc);
    docs.push(doc);
  }
  if (docs.length === 0) throw new Error(`${path}: no documents`);
  return docs;
}

const quietLog: Logger = { info() {}, warn() {}, error() {} };

/** What identifies a built collection: a later prepare with the same stamp reuses it. */
function stampOf(o: EngineOptions): string {
  const st = statSync(o.corpusPath);
  return JSON.stringify({
    corpus: o.corpusPath,
    bytes: st.size,
    mtimeMs: st.mtimeMs,
    maxDocs: o.maxDocs ?? null,
    retrievers: engineRetrievers(o),
  });
}

/**
 * Opens (or builds) the teachers' collection over the corpus. Stderr shows a progress bar of the
 * documents committed, as `lsr eval` does while the service encodes.
 */
export async function openEngine(o: EngineOptions): Promise<Engine> {
  const encoders = new EncoderRegistry({ workers: o.encoderWorkers, threads: o.encoderThreads, device: o.encoderDevice });
  const stampFile = join(o.dir, 'engine.json');
  const stamp = stampOf(o);
  const reusable = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (!reusable && existsSync(o.dir)) rmSync(o.dir, { recursive: true, force: true });
  let registry: CollectionRegistry | undefined;
  try {
    registry = await CollectionRegistry.open(o.dir, quietLog, encoders);
    const held = registry.has(ENGINE_COLLECTION) ? registry.get(ENGINE_COLLECTION) : undefined;
    const collection =
      held ?? (await registry.create({ name: ENGINE_COLLECTION, fields: ['title', 'text'], retrievers: engineRetrievers(o) }));
    const analyzer = collection.analyzer;
    const prepared = new Map<string, NewDocument>();
    const docs = await readCorpus(o.corpusPath, o.maxDocs, (d) => {
      // The service's own preparation of a BEIR document as `lsr eval` sends it (_id, title, text).
      const p = prepareDocument({ _id: d.id, title: d.title, text: d.body }, collection.config, analyzer);
      if (!held) prepared.set(d.id, p);
      return p.text ?? '';
    });
    let indexSeconds = 0;
    const reused = held !== undefined && collection.size === docs.length;
    if (!reused) {
      if (held)
        throw new Error(`${o.dir}: the teachers' collection holds ${collection.size} documents, not ${docs.length}; remove the folder`);
      indexSeconds = await ingest(collection, docs, prepared, o);
      writeFileSync(stampFile, stamp);
    } else o.log(`teachers: reusing the collection in ${o.dir} (${docs.length} documents)`);
    const docnos = new Map<string, number>();
    for (const d of docs) {
      const n = await collection.docnoOf(d.id);
      if (n === undefined) throw new Error(`document "${d.id}" is not in the teachers' collection`);
      docnos.set(d.id, n);
    }
    const reg = registry;
    return {
      collection,
      docs,
      docnos,
      indexSeconds,
      reused,
      close: async () => {
        await reg.close();
        await encoders.close();
      },
    };
  } catch (e) {
    await registry?.close();
    await encoders.close();
    throw e;
  }
}

/** Writes the documents in batches, two in flight (the next encodes while one is written). */
async function ingest(
  collection: Collection,
  docs: CorpusDocument[],
  prepared: Map<string, NewDocument>,
  o: EngineOptions,
): Promise<number> {
  const t0 = performance.now();
  const names = Object.keys(collection.config.retrievers).join(', ');
  const bar = new ProgressBar(`index ${names}`, docs.length, { enabled: o.progress, unit: 'docs' });
  let done = 0;
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  try {
    for (let at = 0; at < docs.length && failure === undefined; at += o.batchSize) {
      const batch = docs.slice(at, at + o.batchSize).map((d) => prepared.get(d.id)!);
      const p = collection
        .write(batch, null)
        .then((r) => {
          if (r.written !== batch.length) throw new Error(`the collection wrote ${r.written} of ${batch.length} documents`);
          done += r.written;
          bar.update(done);
        })
        .catch((e) => {
          failure ??= e;
        })
        .finally(() => pending.delete(p));
      pending.add(p);
      while (pending.size >= 2) await Promise.race(pending);
    }
    await Promise.all(pending);
    if (failure !== undefined) throw failure;
    await collection.commit();
  } finally {
    bar.finish();
  }
  return (performance.now() - t0) / 1000;
}
