// Node side of the GPU encoding benchmark and conformance check (issue 7, issue 5): documents/s of
// GpuEncoder (our tokenizer in worker threads, CUDA trunk, sparse head on the device, sparse
// vectors back in Node) on the same texts and weights as sentence-transformers' SparseEncoder
// (bench/gpu/encode-st.py), and the dense outputs the comparison reads (bench/gpu/encode-compare.py).
// Runs on the GPU machine from compiled JS (bench/gpu/encode-run.sh):
//
//   node .gpu-enc/dist/bench/gpu/encode.js --model DIR --texts texts.json --out DIR [--tiny DIR --tiny-texts FILE]
//        [--batches 32,128] [--repeats 3] [--check 512] [--tokenizer-threads 8]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuEncoder, type GpuTimings } from '../../src/encoder/gpu/gpu-encoder.js';

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf('--' + name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (def === undefined) throw new Error(`--${name} is required`);
  return def;
}

const model = arg('model'),
  out = arg('out');
const texts = JSON.parse(readFileSync(arg('texts'), 'utf8')) as string[];
const batches = arg('batches', '32,128').split(',').map(Number);
const repeats = Number(arg('repeats', '3'));
const check = Math.min(Number(arg('check', '512')), texts.length);
const tokenizerThreads = Number(arg('tokenizer-threads', '8'));
const maxLength = Number(arg('max-length', '256'));

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const writeF32 = (name: string, a: Float32Array) => writeFileSync(join(out, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
const snap = (t: GpuTimings) => ({ ...t });
const log = (...a: unknown[]) => console.log('[encode.ts]', ...a);

const result: Record<string, unknown> = { texts: texts.length, maxLength, tokenizerThreads, runs: [] as unknown[] };

for (const precision of ['fp16', 'bf16'] as const) {
  let t0 = performance.now();
  const enc = await GpuEncoder.load(model, { precision, maxLength, tokenizerThreads, batchSize: 32 });
  result.loadMs = performance.now() - t0;
  result.device = enc.deviceName;
  log(`loaded ${model} (${precision}) on ${enc.deviceName} in ${(result.loadMs as number).toFixed(0)} ms`);
  if (precision === 'fp16') {
    // Tokenization alone (the worker threads), for the breakdown.
    await enc.tokenize(texts.slice(0, 256));
    t0 = performance.now();
    const lists = await enc.tokenize(texts);
    result.tokenizeMs = performance.now() - t0;
    result.tokens = lists.reduce((n, l) => n + l.length, 0);
  }
  const plan: ['auto' | 'simple', number][] = batches.map((b) => ['auto', b]);
  if (precision === 'fp16') plan.push(['simple', batches[batches.length - 1]]);
  for (const [head, bs] of plan) {
    enc.head = head;
    enc.batchSize = bs;
    await enc.encode(texts.slice(0, Math.min(texts.length, 4 * bs))); // warm-up: kernels, buffers at this size
    const times: number[] = [];
    let gpu: GpuTimings | null = null,
      nnz = 0;
    for (let r = 0; r < repeats; r++) {
      const before = snap(enc.timings);
      const s = performance.now();
      const v = await enc.encode(texts);
      times.push(performance.now() - s);
      nnz = v.terms.length;
      const a = enc.timings;
      gpu = {
        batches: a.batches - before.batches,
        trunkMs: a.trunkMs - before.trunkMs,
        headMs: a.headMs - before.headMs,
        copyMs: a.copyMs - before.copyMs,
        head: a.head,
        attention: a.attention,
      };
    }
    const ms = median(times);
    const run = {
      precision,
      head: gpu!.head,
      attention: gpu!.attention,
      batch: bs,
      ms,
      docs_s: (texts.length / ms) * 1000,
      times,
      gpu,
      avg_nnz: nnz / texts.length,
    };
    (result.runs as unknown[]).push(run);
    log(JSON.stringify(run));
  }
  // Where the trunk's GPU time goes (one more pass at the largest batch, with events between steps).
  enc.head = 'auto';
  enc.batchSize = batches[batches.length - 1];
  enc.profile(true);
  await enc.encode(texts);
  result[`profile_${precision}`] = enc.profile(false);
  log('profile', JSON.stringify(result[`profile_${precision}`]));
  // Conformance outputs: dense weights of the first `check` texts.
  enc.batchSize = 128;
  enc.head = 'auto';
  writeF32(`node-${precision}.f32`, await enc.encodeDense(texts.slice(0, check)));
  result[`head_${precision}`] = enc.timings.head;
  if (precision === 'fp16') {
    enc.head = 'simple';
    writeF32('node-fp16-simple.f32', await enc.encodeDense(texts.slice(0, check)));
  }
  await enc.close();
}
// The same fp16 encoder with an opt-in variant, for the record: the fused attention kernel
// (LSR_TRUNK_ATTENTION=fused), and the first, one-value-a-thread glue kernels (LSR_TRUNK_GLUE=scalar).
const variants: [string, string, string, string][] = [
  ['fusedAttention', 'LSR_TRUNK_ATTENTION', 'fused', 'node-fp16-fused-attn.f32'],
  ['scalarGlue', 'LSR_TRUNK_GLUE', 'scalar', 'node-fp16-scalar-glue.f32'],
];
for (const [key, env, value, file] of variants) {
  process.env[env] = value;
  const enc = await GpuEncoder.load(model, { precision: 'fp16', maxLength, tokenizerThreads, batchSize: batches[batches.length - 1] });
  delete process.env[env];
  await enc.encode(texts.slice(0, 4 * enc.batchSize));
  const times: number[] = [];
  const before = snap(enc.timings);
  for (let r = 0; r < repeats; r++) {
    const s = performance.now();
    await enc.encode(texts);
    times.push(performance.now() - s);
  }
  const ms = median(times),
    a = enc.timings;
  result[key] = {
    variant: `${env}=${value}`,
    precision: 'fp16',
    batch: enc.batchSize,
    ms,
    docs_s: (texts.length / ms) * 1000,
    attention: a.attention,
    head: a.head,
    gpu_per_run: { trunkMs: (a.trunkMs - before.trunkMs) / repeats, headMs: (a.headMs - before.headMs) / repeats },
  };
  log(key, JSON.stringify(result[key]));
  writeF32(file, await enc.encodeDense(texts.slice(0, check)));
  await enc.close();
}
{
  const enc = await GpuEncoder.load(model, { precision: 'fp32', maxLength, tokenizerThreads, batchSize: 64 });
  writeF32('node-fp32.f32', await enc.encodeDense(texts.slice(0, check)));
  enc.batchSize = 128;
  await enc.encode(texts.slice(0, 256));
  const s = performance.now();
  await enc.encode(texts);
  const ms = performance.now() - s;
  result.fp32 = { batch: 128, ms, docs_s: (texts.length / ms) * 1000, head: enc.timings.head };
  await enc.close();
}
const tiny = process.argv.includes('--tiny') ? arg('tiny') : null;
if (tiny) {
  const tinyTexts = JSON.parse(readFileSync(arg('tiny-texts'), 'utf8')) as string[];
  for (const precision of ['fp32', 'fp16', 'bf16'] as const) {
    const enc = await GpuEncoder.load(tiny, { precision, maxLength, batchSize: 8 });
    writeF32(`tiny-node-${precision}.f32`, await enc.encodeDense(tinyTexts));
    result[`tiny_${precision}_head`] = enc.timings.head;
    await enc.close();
  }
}
result.check = check;
writeFileSync(join(out, 'node.json'), JSON.stringify(result, null, 2));
log('done');
