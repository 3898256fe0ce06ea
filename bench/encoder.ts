// SPLADE encoder throughput and memory: the full ONNX masked-LM + pooling of its logits against the
// ONNX trunk + the native fused head, on a BERT-base-shaped random-weight model (hidden 768, 12
// layers, vocabulary 30,522) generated at bench time by models/make-random-bert.py (never committed).
// Every (mode, seq, batch) runs in its own child process so peak RSS is that configuration's alone;
// a trunk-only child gives the baseline, and peak − baseline is the memory the head costs. The trunk
// child is also the ceiling: the fused path runs that same trunk plus the head, so it can never beat it.
// Modes: full (ONNX masked-LM + pooling), fused (trunk + fused head, f32 weights, screened where the
// CPU has AVX512_VNNI: the default), fused_plain (the same without the int8 screen: every term in f32),
// fused_bf16 (trunk + the bf16 head: bf16 × bf16 → f32, vdpbf16ps where the CPU has AVX512_BF16), trunk.
// The model's decoder bias (mean -2) leaves ~450 non-zero terms per 256-token text, as trained SPLADE
// heads leave a few hundred; the screen's gain depends on that sparsity, so each run reports the share
// of (text, term) pairs the screen left to the f32 kernel (screen_candidates) and the terms per text.
// Inputs are random token ids of exactly `seq` tokens, so tokenization is not timed. Each child runs
// one untimed warm-up batch (ORT's arena and first-run setup), then timed batches (~4K tokens, at
// least one) for peak RSS. Throughput comes from one more child that loads every mode and
// interleaves them batch by batch for --rounds rounds (the order rotated each round): on a machine
// shared with other work only same-time ratios mean anything, so docs_s is each mode's median over
// rounds and speedup / speedup_bf16 / ceiling (trunk over full) the medians of same-round ratios.
//
// With --isolated-rounds R (and --child-batches K), throughput is also taken from R rounds of
// one-mode children (the order rotated; ratios are medians of same-round ratios): each mode alone in
// its process, which the interleaved child is not (see the note at the isolated rounds below). The
// isolated children also report their CPU seconds per batch, user and system
// (isolated_cpu_s_per_batch): the full graph's system time is the page faults of its logits.
//
//   tsx bench/encoder.ts [--model-dir DIR] [--seqs 128,256] [--batches 1,8,32] [--threads 2] [--rounds 3]
//                        [--isolated-rounds 1] [--child-batches 1]
//                        [--modes full,fused,fused_plain,fused_bf16,trunk] [--json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import type { HeadScreenStats } from '../index/native.js';
import { headKernel, screenSupported } from '../src/encoder/sparse/fused-head.js';
import { SpladeEncoder } from '../src/encoder/sparse/splade-encoder.js';
import { table } from './lib/table.js';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const THREADS = Number(opt('threads', '2'));

type Mode = 'full' | 'fused' | 'fused_plain' | 'fused_bf16' | 'trunk';
const ALL_MODES: Mode[] = ['full', 'fused', 'fused_plain', 'fused_bf16', 'trunk'];
/** One child's throughput and peak RSS, and its process's CPU seconds per timed batch (all threads). */
interface ChildResult {
  docs_s: number;
  peak_rss_mb: number;
  runs: number;
  user_s: number;
  sys_s: number;
}
/**
 * Per mode, one value per round: documents per wall-clock second, and per CPU-second of the process
 * (all threads); the fused head's screen counters and the mean terms per text of every mode.
 */
interface Interleaved {
  wall: Record<string, number[]>;
  cpu: Record<string, number[]>;
  screen: HeadScreenStats | null;
  terms: Record<string, number>;
}
interface Step {
  run: (i: number) => Promise<unknown>;
  screen: () => HeadScreenStats | null;
  terms: () => number;
}

/** Random ids in [1000, vocab) between [CLS] (2) and [SEP] (3): every text exactly `seq` tokens. */
function inputs(seq: number, batch: number, vocab: number, seed: number): number[][] {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: batch }, () => [2, ...Array.from({ length: seq - 2 }, () => 1000 + Math.floor(r() * (vocab - 1000))), 3]);
}

async function makeStep(mode: Mode, dir: string, seq: number, batch: number): Promise<Step> {
  if (mode === 'trunk') {
    const session = await ort.InferenceSession.create(join(dir, 'trunk.onnx'), {
      intraOpNumThreads: THREADS,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const run = async (i: number) => {
      const ids = BigInt64Array.from(inputs(seq, batch, 30522, i).flat(), BigInt);
      const dims = [batch, seq];
      const r = await session.run({
        input_ids: new ort.Tensor('int64', ids, dims),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * seq).fill(1n), dims),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch * seq), dims),
      });
      r.hidden_states.dispose();
    };
    return { run, screen: () => null, terms: () => 0 };
  }
  const enc = await SpladeEncoder.load(dir, {
    layout: mode === 'full' ? 'full' : 'split',
    bf16: mode === 'fused_bf16',
    screen: mode === 'fused',
    maxLength: seq,
    batchSize: batch,
    threads: THREADS,
  });
  let terms = 0,
    texts = 0;
  const run = async (i: number) => {
    const v = await enc.encodeIds(inputs(seq, batch, enc.vocab, i));
    terms += v.terms.length;
    texts += batch;
  };
  return { run, screen: () => enc.headStats(), terms: () => (texts ? terms / texts : 0) };
}

/** Batches per timed sample: ~4K tokens, at least one. */
const runsFor = (seq: number, batch: number) => Math.max(1, Math.floor(4096 / (seq * batch)));

async function child(mode: Mode, dir: string, seq: number, batch: number): Promise<ChildResult> {
  // One warm-up run, then enough timed runs for ~4K tokens (at least one), or --child-batches.
  const step = (await makeStep(mode, dir, seq, batch)).run;
  const runs = Math.max(runsFor(seq, batch), Number(opt('child-batches', '1')));
  await step(1000);
  let elapsed = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await step(i);
    elapsed += Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const c = process.cpuUsage(c0);
  return {
    docs_s: (runs * batch) / elapsed,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    runs,
    user_s: c.user / 1e6 / runs,
    sys_s: c.system / 1e6 / runs,
  };
}

/**
 * Throughput of every mode in one process, interleaved batch by batch (each round runs `runsFor`
 * batches of every mode, one mode after another for each batch, the order rotated each round), so
 * that every mode's samples are seconds apart from the others': on a machine shared with other work,
 * only such same-time ratios mean anything. Documents per CPU-second (user + system of all the
 * process's threads) are taken too: they move much less with other load than wall-clock time does,
 * but miss idle time (a serial phase) and count spinning. Peak RSS is not taken here.
 */
async function interleaved(modes: Mode[], dir: string, seq: number, batch: number, rounds: number): Promise<Interleaved> {
  const steps = new Map<Mode, Step>();
  for (const m of modes) steps.set(m, await makeStep(m, dir, seq, batch));
  for (const m of modes) await steps.get(m)!.run(1000);
  const runs = runsFor(seq, batch);
  const out: Interleaved = { wall: {}, cpu: {}, screen: null, terms: {} };
  for (const m of modes) [out.wall[m], out.cpu[m]] = [[], []];
  for (let r = 0; r < rounds; r++) {
    const secs = new Map<Mode, number>(modes.map((m) => [m, 0]));
    const cpu = new Map<Mode, number>(modes.map((m) => [m, 0]));
    for (let i = 0; i < runs; i++)
      for (let j = 0; j < modes.length; j++) {
        const m = modes[(j + r + i) % modes.length];
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await steps.get(m)!.run(r * runs + i);
        secs.set(m, secs.get(m)! + Number(process.hrtime.bigint() - t0) / 1e9);
        const c = process.cpuUsage(c0);
        cpu.set(m, cpu.get(m)! + (c.user + c.system) / 1e6);
      }
    for (const m of modes) {
      out.wall[m].push((runs * batch) / secs.get(m)!);
      out.cpu[m].push((runs * batch) / cpu.get(m)!);
    }
  }
  out.screen = steps.get('fused')?.screen() ?? null;
  for (const m of modes) if (m !== 'trunk') out.terms[m] = Math.round(steps.get(m)!.terms());
  return out;
}

function spawnChild<T = ChildResult>(mode: Mode | 'interleaved', dir: string, seq: number, batch: number, extra: string[] = []): T {
  const self = fileURLToPath(import.meta.url);
  const execArgv = process.execArgv.length ? process.execArgv : ['--import', 'tsx'];
  const r = spawnSync(
    process.execPath,
    [
      ...execArgv,
      self,
      '--child',
      mode,
      '--model-dir',
      dir,
      '--seq',
      String(seq),
      '--batch',
      String(batch),
      '--threads',
      String(THREADS),
      ...extra,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status !== 0) throw new Error(`${mode} seq ${seq} batch ${batch} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  if (args.includes('--child')) {
    const which = opt('child', '');
    const [dir, seq, batch] = [opt('model-dir', ''), Number(opt('seq', '')), Number(opt('batch', ''))];
    const res =
      which === 'interleaved'
        ? await interleaved(opt('modes', '').split(',') as Mode[], dir, seq, batch, Number(opt('rounds', '3')))
        : await child(which as Mode, dir, seq, batch);
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
    const gen = spawnSync(
      'python3',
      [fileURLToPath(new URL('../models/make-random-bert.py', import.meta.url)), '--preset', 'bert-base', '--out', dir],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (gen.status !== 0) throw new Error('models/make-random-bert.py failed (it needs python3 with onnx, numpy and tokenizers)');
  }
  try {
    const rounds = Number(opt('rounds', '3'));
    const modes = opt('modes', ALL_MODES.join(',')).split(',') as Mode[];
    const round = (x: number) => Math.round(x * 100) / 100;
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    };
    const runs: Record<string, unknown>[] = [];
    for (const seq of seqs)
      for (const batch of batches) {
        // Peak RSS: one child per mode (a warm-up batch and the timed ones). With --isolated-rounds R,
        // R rounds of such children (the order rotated each round, --child-batches timed batches
        // each): throughput with nothing else in the process, as the interleaved child cannot give
        // (its other sessions slowed `full` by ~10% against a full+trunk-only child; docs/encoder.md).
        const isoRounds = Number(opt('isolated-rounds', '1'));
        const iso: Record<string, ChildResult[]> = Object.fromEntries(modes.map((m) => [m, []]));
        for (let r = 0; r < isoRounds; r++)
          for (let j = 0; j < modes.length; j++) {
            const m = modes[(j + r) % modes.length];
            iso[m].push(spawnChild(m, dir, seq, batch, ['--child-batches', opt('child-batches', '1')]));
          }
        const mem: Partial<Record<Mode, ChildResult>> = Object.fromEntries(
          modes.map((m) => [m, iso[m].reduce((a, b) => (b.peak_rss_mb > a.peak_rss_mb ? b : a))]),
        );
        // Throughput: every mode in one child, batches interleaved.
        const il = spawnChild<Interleaved>('interleaved', dir, seq, batch, ['--modes', modes.join(','), '--rounds', String(rounds)]);
        const tput = il.wall;
        const row: Record<string, unknown> = { seq, batch };
        for (const m of modes) row[m] = { docs_s: round(median(tput[m])), peak_rss_mb: Math.round(mem[m]!.peak_rss_mb) };
        const trunkRss = mem.trunk?.peak_rss_mb;
        if (trunkRss !== undefined)
          row.head_mb = Object.fromEntries(modes.filter((m) => m !== 'trunk').map((m) => [m, Math.round(mem[m]!.peak_rss_mb - trunkRss)]));
        // Same-round ratios over full (each the median over rounds, then every round's).
        if (tput.full) {
          const ratio = (m: Mode) => tput[m].map((x, r) => x / tput.full[r]);
          for (const [key, m] of [
            ['speedup', 'fused'],
            ['speedup_plain', 'fused_plain'],
            ['speedup_bf16', 'fused_bf16'],
            ['ceiling', 'trunk'],
          ] as const)
            if (tput[m]) row[key] = round(median(ratio(m)));
          row.per_round = Object.fromEntries(modes.filter((m) => m !== 'full').map((m) => [`${m}_over_full`, ratio(m).map(round)]));
        }
        if (il.screen) row.screen_candidates = Math.round((il.screen.candidates / il.screen.pairs) * 1e4) / 1e4;
        if (il.screen) row.screen_calls = { screened: il.screen.callsScreened, plain: il.screen.callsPlain };
        row.terms_per_text = il.terms;
        row.docs_s_per_round = Object.fromEntries(modes.map((m) => [m, tput[m].map(round)]));
        // The best round of each mode (the least disturbed by other load) and its ratio over full's best.
        const best = (m: Mode) => Math.max(...tput[m]);
        row.best_docs_s = Object.fromEntries(modes.map((m) => [m, round(best(m))]));
        if (tput.full)
          row.best_over_full = Object.fromEntries(modes.filter((m) => m !== 'full').map((m) => [m, round(best(m) / best('full'))]));
        // Documents per CPU-second: medians over rounds, and their ratios over full.
        const cpuMed = (m: Mode) => median(il.cpu[m]);
        row.docs_per_cpu_s = Object.fromEntries(modes.map((m) => [m, round(cpuMed(m))]));
        if (il.cpu.full)
          row.cpu_over_full = Object.fromEntries(modes.filter((m) => m !== 'full').map((m) => [m, round(cpuMed(m) / cpuMed('full'))]));
        const isoMedian = (m: Mode, f: (c: ChildResult) => number) => round(median(iso[m].map(f)));
        row.isolated_docs_s = Object.fromEntries(modes.map((m) => [m, isoMedian(m, (c) => c.docs_s)]));
        if (isoRounds > 1) {
          row.isolated_per_round = Object.fromEntries(modes.map((m) => [m, iso[m].map((c) => round(c.docs_s))]));
          if (iso.full)
            row.isolated_over_full = Object.fromEntries(
              modes.filter((m) => m !== 'full').map((m) => [m, round(median(iso[m].map((c, r) => c.docs_s / iso.full[r].docs_s)))]),
            );
          row.isolated_peak_rss_mb = Object.fromEntries(modes.map((m) => [m, iso[m].map((c) => Math.round(c.peak_rss_mb))]));
        }
        // CPU seconds per batch in the isolated children (medians): system time is where the full
        // graph's fresh logits buffers show up as page faults, which cost very different amounts on
        // different machines (docs/encoder.md).
        row.isolated_cpu_s_per_batch = Object.fromEntries(
          modes.map((m) => [m, { user: isoMedian(m, (c) => c.user_s), sys: isoMedian(m, (c) => c.sys_s) }]),
        );
        runs.push(row);
        if (!json)
          process.stderr.write(
            `seq ${seq} batch ${batch}: ${modes.map((m) => `${m} ${median(tput[m]).toFixed(2)}`).join(', ')} docs/s (medians of ${rounds} interleaved rounds)\n`,
          );
      }
    const SCREEN = screenSupported() ? 'avx512vnni int8 screen + f32 panel' : 'none (no AVX512_VNNI)';
    const doc = (r: Record<string, unknown>, m: Mode) => r[m] as { docs_s: number; peak_rss_mb: number };
    console.log(
      table(
        `SPLADE encoder, BERT-base shape, ${THREADS} threads (${cpus()[0]?.model ?? 'cpu'}); head kernels: f32 ${headKernel(false)}, bf16 ${headKernel(true)}; docs/s: medians of ${rounds} interleaved rounds`,
        [
          'seq',
          'batch',
          ...modes.map((m) => `${m} docs/s`),
          ...modes.map((m) => `${m} peak MB`),
          'fused/full',
          'plain/full',
          'bf16/full',
          'trunk/full',
          'isolated fused/full',
          'screen cand.',
        ],
        runs.map(
          (r) =>
            [
              r.seq,
              r.batch,
              ...modes.map((m) => doc(r, m).docs_s),
              ...modes.map((m) => doc(r, m).peak_rss_mb),
              r.speedup ?? '',
              r.speedup_plain ?? '',
              r.speedup_bf16 ?? '',
              r.ceiling ?? '',
              (r.isolated_over_full as Record<string, number> | undefined)?.fused ?? '',
              r.screen_candidates ?? '',
            ] as (string | number)[],
        ),
      ),
    );
    if (json)
      console.log(
        JSON.stringify({
          threads: THREADS,
          cpu: cpus()[0]?.model,
          rounds,
          head_kernel: { f32: headKernel(false), f32_screen: SCREEN, bf16: headKernel(true) },
          runs,
        }),
      );
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

await main();
