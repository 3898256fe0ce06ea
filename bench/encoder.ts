// SPLADE encoder throughput and memory: the full ONNX masked-LM + pooling of its logits against the
// ONNX trunk + the native fused head, on a BERT-base-shaped random-weight model (hidden 768, 12
// layers, vocabulary 30,522) generated at bench time by models/make-random-bert.py (never committed).
// Every (mode, seq, batch) runs in its own child process so peak RSS is that configuration's alone;
// a trunk-only child gives the baseline, and peak − baseline is the memory the head costs.
// Inputs are random token ids of exactly `seq` tokens, so tokenization is not timed.
//
//   tsx bench/encoder.ts [--model-dir DIR] [--seqs 128,256] [--batches 1,8,32] [--threads 2] [--json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { SpladeEncoder } from '../src/encoder/splade-encoder.js';
import { table } from './lib/table.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const THREADS = Number(opt('threads', '2'));

type Mode = 'full' | 'fused' | 'trunk';
interface ChildResult { docs_s: number; peak_rss_mb: number; runs: number }

/** Random ids in [1000, vocab) between [CLS] (2) and [SEP] (3): every text exactly `seq` tokens. */
function inputs(seq: number, batch: number, vocab: number, seed: number): number[][] {
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: batch }, () => [2, ...Array.from({ length: seq - 2 }, () => 1000 + Math.floor(r() * (vocab - 1000))), 3]);
}

async function child(mode: Mode, dir: string, seq: number, batch: number): Promise<ChildResult> {
  // One warm-up run where it is cheap, then enough timed runs for ~2K tokens (at least one).
  const tokens = seq * batch;
  const warm = tokens <= 1024 ? 1 : 0;
  const runs = Math.max(1, Math.floor(2048 / tokens));
  let step: (i: number) => Promise<unknown>;
  if (mode === 'trunk') {
    const session = await ort.InferenceSession.create(join(dir, 'trunk.onnx'), { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    step = async (i) => {
      const ids = BigInt64Array.from(inputs(seq, batch, 30522, i).flat(), BigInt);
      const dims = [batch, seq];
      const r = await session.run({
        input_ids: new ort.Tensor('int64', ids, dims),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * seq).fill(1n), dims),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch * seq), dims),
      });
      r.hidden_states.dispose();
    };
  } else {
    const enc = await SpladeEncoder.load(dir, { layout: mode === 'full' ? 'full' : 'split', maxLength: seq, batchSize: batch, threads: THREADS });
    step = (i) => enc.encodeIds(inputs(seq, batch, enc.vocab, i));
  }
  for (let i = 0; i < warm; i++) await step(1000 + i);
  let elapsed = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await step(i);
    elapsed += Number(process.hrtime.bigint() - t0) / 1e9;
  }
  return { docs_s: (runs * batch) / elapsed, peak_rss_mb: process.resourceUsage().maxRSS / 1024, runs };
}

function spawnChild(mode: Mode, dir: string, seq: number, batch: number): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const execArgv = process.execArgv.length ? process.execArgv : ['--import', 'tsx'];
  const r = spawnSync(process.execPath, [...execArgv, self, '--child', mode, '--model-dir', dir, '--seq', String(seq), '--batch', String(batch), '--threads', String(THREADS)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${mode} seq ${seq} batch ${batch} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  if (args.includes('--child')) {
    const res = await child(opt('child', '') as Mode, opt('model-dir', ''), Number(opt('seq', '')), Number(opt('batch', '')));
    process.stdout.write(JSON.stringify(res) + '\n');
    return;
  }
  const json = args.includes('--json');
  const seqs = opt('seqs', '128,256').split(',').map(Number);
  const batches = opt('batches', '1,8,32').split(',').map(Number);
  let dir = opt('model-dir', '');
  let temp: string | null = null;
  if (!dir || !existsSync(join(dir, 'trunk.onnx'))) {
    dir ||= temp = mkdtempSync(join(tmpdir(), 'lsr-bench-bert-'));
    const gen = spawnSync('python3', [fileURLToPath(new URL('../models/make-random-bert.py', import.meta.url)), '--preset', 'bert-base', '--out', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (gen.status !== 0) throw new Error('models/make-random-bert.py failed (it needs python3 with onnx, numpy and tokenizers)');
  }
  try {
    const runs = [];
    for (const seq of seqs)
      for (const batch of batches) {
        const full = spawnChild('full', dir, seq, batch);
        const fused = spawnChild('fused', dir, seq, batch);
        const trunk = spawnChild('trunk', dir, seq, batch);
        const round = (x: number) => Math.round(x * 100) / 100;
        runs.push({
          seq, batch,
          full: { docs_s: round(full.docs_s), peak_rss_mb: Math.round(full.peak_rss_mb) },
          fused: { docs_s: round(fused.docs_s), peak_rss_mb: Math.round(fused.peak_rss_mb) },
          trunk_peak_rss_mb: Math.round(trunk.peak_rss_mb),
          head_mb: { full: Math.round(full.peak_rss_mb - trunk.peak_rss_mb), fused: Math.round(fused.peak_rss_mb - trunk.peak_rss_mb) },
          speedup: round(fused.docs_s / full.docs_s),
        });
        if (!json) process.stderr.write(`seq ${seq} batch ${batch}: full ${full.docs_s.toFixed(2)} docs/s, fused ${fused.docs_s.toFixed(2)} docs/s\n`);
      }
    console.log(table(`SPLADE encoder, BERT-base shape, ${THREADS} threads (${cpus()[0]?.model ?? 'cpu'})`,
      ['seq', 'batch', 'full docs/s', 'fused docs/s', 'speedup', 'full peak MB', 'fused peak MB', 'trunk peak MB', 'head MB full', 'head MB fused'],
      runs.map((r) => [r.seq, r.batch, r.full.docs_s, r.fused.docs_s, r.speedup, r.full.peak_rss_mb, r.fused.peak_rss_mb, r.trunk_peak_rss_mb, r.head_mb.full, r.head_mb.fused])));
    if (json) console.log(JSON.stringify({ threads: THREADS, cpu: cpus()[0]?.model, runs }));
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

await main();
