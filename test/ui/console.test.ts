// The web console (/ui) in a real browser: Debian's Chromium driven by playwright-core against a
// real server with a real collection. Create a collection (and see the API's own message next to
// the field at fault), ingest NDJSON and watch the job, search with explain (BM25 and a hybrid with
// the tiny SPLADE fixture), compare BM25 with the hybrid on one query and over a judged query set,
// open an `lsr eval` output folder, a read-only key, the keyboard, two viewports, and the page's
// weight and time to interactive. Screenshots go to test-artifacts/ui/ (ignored by git).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_DIR } from '../../src/api/routes/ui.js';
import { runEval } from '../../src/eval/runner.js';
import { ndjson, removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { skipBecause } from '../helpers/skip-log.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.LSR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(root, 'test-artifacts', 'ui');
/** LSR_UI_SCREENSHOTS=docs rewrites the two screenshots the README shows (docs/console-*.png). */
const DOCS_SHOTS = process.env.LSR_UI_SCREENSHOTS === 'docs';
const reason = skipBecause(
  import.meta.url,
  'web console',
  existsSync(CHROMIUM) ? null : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`,
);

const DOCS = [
  { _id: 'p1', title: 'Cats', text: 'Cats purr and sleep most of the day.', metadata: { year: 2020, kind: 'pet' } },
  { _id: 'p2', title: 'Dogs', text: 'Dogs bark at cats and chase the mail carrier.', metadata: { year: 2022, kind: 'pet' } },
  { _id: 'p3', title: 'Kittens', text: 'A kitten is a young cat that plays with yarn.', metadata: { year: 2021, kind: 'pet' } },
  { _id: 'p4', title: 'Lions', text: 'Lions are big cats that hunt on the savanna.', metadata: { year: 2019, kind: 'wild' } },
  {
    _id: 'p5',
    title: 'Sparse retrieval',
    text: 'Learned sparse retrieval expands documents with related terms.',
    metadata: { year: 2023, kind: 'paper' },
  },
  {
    _id: 'p6',
    title: 'BM25',
    text: 'BM25 ranks documents by term frequency and inverse document frequency.',
    metadata: { year: 1994, kind: 'paper' },
  },
  {
    _id: 'p7',
    title: 'Hybrid search',
    text: 'Hybrid search fuses lexical and learned rankings with reciprocal rank fusion.',
    metadata: { year: 2024, kind: 'paper' },
  },
  {
    _id: 'p8',
    title: 'Parrots',
    text: 'Parrots can learn words and mimic the sounds of cats and dogs.',
    metadata: { year: 2018, kind: 'pet' },
  },
  { _id: 'p9', title: 'Tigers', text: 'Tigers are the largest wild cats, striped and solitary.', metadata: { year: 2017, kind: 'wild' } },
  {
    _id: 'p10',
    title: 'Dense retrieval',
    text: 'Dense retrieval embeds queries and documents as vectors.',
    metadata: { year: 2020, kind: 'paper' },
  },
];
const QUERIES = [
  { _id: 'q1', text: 'cats that purr' },
  { _id: 'q2', text: 'wild big cats' },
  { _id: 'q3', text: 'sparse retrieval terms' },
  { _id: 'q4', text: 'fusion of rankings' },
  { _id: 'q5', text: 'dogs barking' },
];
const QRELS = 'query-id\tcorpus-id\tscore\nq1\tp1\t2\nq1\tp3\t1\nq2\tp4\t2\nq2\tp9\t2\nq3\tp5\t2\nq3\tp6\t1\nq4\tp7\t2\nq5\tp2\t2\n';

let server: TestServer;
let browser: Browser;
let dir: string;
let page: Page;
let savedRoots: string | undefined;

const shot = async (p: Page, name: string) => {
  await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
};
/** A screenshot for the README: the top `height` pixels of the page (docs/ only with LSR_UI_SCREENSHOTS=docs). */
const docShot = async (p: Page, file: string, height: number) => {
  const path = DOCS_SHOTS ? join(root, 'docs', file) : join(ARTIFACTS, file);
  await p.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } });
};

async function newPage(width = 1280, height = 800): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width, height } });
  return ctx.newPage();
}

/** The document is no wider than the viewport: nothing pushes the page sideways. */
async function noHorizontalOverflow(p: Page): Promise<void> {
  const { scroll, client } = await p.evaluate(() => ({
    scroll: (globalThis as any).document.documentElement.scrollWidth,
    client: (globalThis as any).document.documentElement.clientWidth,
  }));
  expect(scroll, `page is ${scroll}px wide in a ${client}px viewport`).toBeLessThanOrEqual(client);
}

describe.skipIf(reason !== null)('web console', () => {
  beforeAll(async () => {
    if (!existsSync(join(UI_DIR, 'index.html'))) execFileSync('npm', ['run', 'build:ui'], { cwd: root, stdio: 'inherit' });
    const { chromium } = await import('playwright-core');
    await mkdir(ARTIFACTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'lsr-ui-'));
    // A BEIR folder the server may read (GET /v1/datasets), for Compare over a query set.
    await mkdir(join(dir, 'datasets', 'pets', 'qrels'), { recursive: true });
    await writeFile(join(dir, 'datasets', 'pets', 'queries.jsonl'), ndjson(QUERIES));
    await writeFile(join(dir, 'datasets', 'pets', 'qrels', 'test.tsv'), QRELS);
    savedRoots = process.env.LSR_DATASET_ROOTS;
    process.env.LSR_DATASET_ROOTS = join(dir, 'datasets');
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Flags for a closed network (docs/console.md): no background connections. launch() gives
      // Chromium a fresh empty profile of its own (it refuses a --user-data-dir).
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await newPage();
  });
  afterAll(async () => {
    if (savedRoots === undefined) delete process.env.LSR_DATASET_ROOTS;
    else process.env.LSR_DATASET_ROOTS = savedRoots;
    await browser?.close();
    await server?.close();
    if (server) await removeDir(server.dataDir);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the built console at /ui with its assets, and nothing from elsewhere', async () => {
    const res = await server.req('GET', '/ui');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const assets = [...String(res.body).matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      const r = await fetch(server.url + a, { headers: { 'accept-encoding': 'gzip' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-encoding')).toBe('gzip');
    }
    expect(String(res.body)).not.toMatch(/https?:\/\//);
    const missing = await server.req('GET', '/ui/assets/nope.js');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('ROUTE_NOT_FOUND');
    expect((await server.req('GET', '/ui/..%2f..%2fpackage.json')).status).toBe(404);
    // Every request the page makes stays on the server's origin.
    const p = await newPage();
    const foreign: string[] = [];
    p.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    await p.goto(`${server.url}/ui`);
    await p.getByRole('heading', { name: 'Collections' }).waitFor();
    expect(foreign).toEqual([]);
    await p.context().close();
  });

  it('creates a collection, showing the API message next to the field at fault', async () => {
    await page.goto(`${server.url}/ui#/collections`);
    await page.getByRole('heading', { name: 'Create a collection' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Bad Name!');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await expect.poll(() => page.locator('#err-name').textContent()).toMatch(/INVALID_COLLECTION_NAME/);
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Name', { exact: true }).fill('papers');
    await page.getByLabel('SPLADE (learned sparse)').check();
    await page.getByLabel('splade model source').fill('dir:/nonexistent-model');
    await page.getByRole('button', { name: 'Create collection' }).click();
    await expect.poll(() => page.locator('#err-splade').textContent()).toMatch(/INVALID_MODEL|VALIDATION_FAILED/);
    await shot(page, 'create-error');

    // The server's model cache is offered in the model box (whatever this machine's cache holds).
    const cached = (await server.req('GET', '/v1/models')).body.models.length;
    await expect.poll(() => page.locator('#cached-models option').count()).toBe(cached);
    await page.getByLabel('splade model source').fill('dir:models/fixtures/tiny-bert');
    // Submitted from the keyboard.
    await page.getByLabel('splade model source').press('Enter');
    await page.getByText('Created collection papers.').waitFor();
    const row = page.getByTestId('collections').getByRole('row', { name: /papers/ });
    await expect.poll(() => row.textContent()).toMatch(/splade.*tiny-bert/);
    expect((await server.req('GET', '/v1/collections/papers')).status).toBe(200);
  });

  it('ingests pasted NDJSON and watches the job: progress, counts, refused lines, past jobs', async () => {
    await page.goto(`${server.url}/ui#/ingest`);
    await page.getByLabel('Collection').selectOption('papers');
    await page.getByLabel('NDJSON (one document per line)').fill(`${ndjson(DOCS)}{"title": "no id here"}\n`);
    await page.getByRole('button', { name: 'Start ingest job' }).click();
    await expect.poll(() => page.getByTestId('job-state').textContent(), { timeout: 30_000 }).toBe('committed');
    expect(await page.getByTestId('job-indexed').textContent()).toBe(String(DOCS.length));
    expect(await page.getByTestId('job-rejected').textContent()).toBe('1');
    expect(await page.getByTestId('line-errors').textContent()).toMatch(/11.*MISSING_ID/);
    expect(await page.locator('#job-progress').evaluate((e) => (e as any).value)).toBe(1);
    await page
      .getByTestId('past-jobs')
      .getByRole('row', { name: /papers/ })
      .first()
      .waitFor();
    await shot(page, 'ingest');
    // The collection list shows the new count.
    await page.goto(`${server.url}/ui#/collections`);
    await expect
      .poll(() =>
        page
          .getByTestId('collections')
          .getByRole('row', { name: /papers/ })
          .textContent(),
      )
      .toMatch(/papers10/);
  });

  it('playground: BM25 with explain marks the matched terms; a hybrid explains each retriever', async () => {
    await page.goto(`${server.url}/ui#/playground`);
    await page.getByLabel('Query').fill('wild cats');
    await page.getByLabel('Retriever', { exact: true }).selectOption('bm25');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('hit').first().waitFor();
    const first = page.getByTestId('hit').first();
    expect(await first.getByTestId('terms').textContent()).toMatch(/wild/);
    expect(await first.locator('mark').count()).toBeGreaterThan(0);

    // A filter the API refuses: its message next to the filter box.
    await page.getByLabel('Metadata filter (JSON, optional)').fill('{"year": {"near": 2020}}');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('#pg-err-filter').textContent()).toMatch(/INVALID_FILTER/);
    await page.getByLabel('Metadata filter (JSON, optional)').fill('{"kind": "wild"}');

    await page.getByTestId('config-pg').getByLabel('Hybrid').check();
    await page.getByLabel('bm25 window').fill('50');
    await page.getByLabel('Fusion').selectOption('convex');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('fusion-explain').first().waitFor();
    const fusion = await page.getByTestId('fusion-explain').first().textContent();
    expect(fusion).toMatch(/convex/);
    expect(fusion).toMatch(/bm25/);
    expect(fusion).toMatch(/splade/);
    // The filter held: only the wild cats.
    const ids = await page.getByTestId('hit').locator('.id').allTextContents();
    expect(new Set(ids)).toEqual(new Set(['p4', 'p9']));
    await shot(page, 'playground-hybrid');

    await page.getByLabel('Metadata filter (JSON, optional)').fill('');
    await page.getByTestId('config-pg').getByLabel('One retriever').check();
    await page.getByLabel('Query').fill('cats purr and sleep');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.getByTestId('hit').count()).toBeGreaterThan(3);
    await shot(page, 'playground');
    await docShot(page, 'console-playground.png', 900);
  });

  it('compare: BM25 against a hybrid on one query (overlap, rank changes) and over a judged query set', async () => {
    await page.goto(`${server.url}/ui#/compare`);
    await page.getByTestId('config-cmp-a').getByLabel('Retriever', { exact: true }).selectOption('bm25');
    await page.getByLabel('Query', { exact: true }).fill('cats');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.getByTestId('rank-diagram').waitFor();
    expect(await page.getByTestId('overlap').textContent()).toMatch(/Overlap: \d+ of \d+ documents in both lists/);
    expect(await page.locator('.links line').count()).toBeGreaterThan(0);
    // BM25 finds the cat documents only; the hybrid's SPLADE half brings others: "only B" marks.
    expect(await page.getByTestId('rank-diagram').textContent()).toMatch(/only B/);
    await shot(page, 'compare-one');

    // The query set from the server's BEIR folder (pasting or picking files is the other way in).
    await page.getByLabel('A BEIR folder on the server').selectOption({ label: 'pets (test)' });
    await page.getByRole('button', { name: 'Load its judged queries' }).click();
    await expect.poll(() => page.getByLabel('Queries (BEIR queries.jsonl, or id<TAB>text lines)').inputValue()).toMatch(/"_id":"q5"/);
    expect(await page.getByLabel('Judgments (BEIR qrels TSV or TREC qrels)').inputValue()).toBe(QRELS);
    await page.getByRole('button', { name: 'Compare on every judged query' }).click();
    await page.getByTestId('deltas').waitFor();
    expect(await page.getByTestId('deltas').locator('tbody tr').count()).toBe(QUERIES.length);
    expect(await page.getByTestId('set-summary').textContent()).toMatch(/nDCG@10 over 5 queries/);
    // Sorted by B − A, largest first.
    const deltas = (await page.getByTestId('deltas').locator('tbody tr td:nth-child(4)').allTextContents()).map(Number);
    expect(deltas).toEqual([...deltas].sort((a, b) => b - a));
    await page.getByTestId('deltas').locator('tbody tr button').last().click();
    await page.getByTestId('query-rankings').getByTestId('rank-diagram').waitFor();
    await page.getByTestId('query-rankings').scrollIntoViewIfNeeded();
    await shot(page, 'compare-set');
    // The README's picture: both configurations and the one-query diagram.
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    const one = (await page.getByTestId('compare-one').boundingBox())!;
    await docShot(page, 'console-compare.png', Math.ceil(one.y + one.height + 12));
  });

  it('opens an lsr eval output folder: metrics, significance marks, plot, moved queries', async () => {
    // A judged query per document (its title), and a second system that is a TREC run putting
    // the right document fifth: every query moves and the difference is significant.
    const data = join(dir, 'toy');
    await mkdir(join(data, 'qrels'), { recursive: true });
    await writeFile(join(data, 'corpus.jsonl'), ndjson(DOCS.map(({ metadata: _m, ...d }) => d)));
    const evalQueries = DOCS.map((d, i) => ({ _id: `t${i + 1}`, text: d.title.toLowerCase() }));
    await writeFile(join(data, 'queries.jsonl'), ndjson(evalQueries));
    await writeFile(
      join(data, 'qrels', 'test.tsv'),
      `query-id\tcorpus-id\tscore\n${DOCS.map((d, i) => `t${i + 1}\t${d._id}\t1`).join('\n')}\n`,
    );
    const worse = DOCS.flatMap((d, i) => {
      const others = DOCS.filter((o) => o !== d).slice(0, 4);
      return [...others, d].map((o, r) => `t${i + 1} Q0 ${o._id} ${r + 1} ${10 - r} worse`);
    });
    await writeFile(join(dir, 'worse.trec'), `${worse.join('\n')}\n`);
    const out = join(dir, 'eval-out');
    await runEval({ dataset: data, retrievers: ['bm25', `trec:${join(dir, 'worse.trec')}`], out, progress: false, log: () => {} });

    await page.goto(`${server.url}/ui#/eval`);
    await page.locator('#ev-folder').setInputFiles(out);
    await page.getByTestId('eval-metrics').waitFor();
    const table = await page.getByTestId('eval-metrics').textContent();
    expect(table).toMatch(/worse\.trec/);
    expect(table).toMatch(/ndcg_cut_10/);
    expect(table).toMatch(/†/);
    expect(await page.getByRole('img', { name: /Plot of toy/ }).evaluate((i) => (i as any).naturalWidth)).toBeGreaterThan(0);
    await page.getByTestId('eval-moved').waitFor();
    // Every query moved; the first rows are the largest drops, with the query text from report.md.
    expect(await page.getByTestId('eval-moved').locator('tbody tr').count()).toBe(DOCS.length);
    expect(await page.getByTestId('eval-moved').locator('tbody tr').first().textContent()).toMatch(/t\d+: \w+.*-0\.\d+/);
    await page.getByRole('button', { name: 'Show report.md' }).click();
    expect(await page.locator('pre.report').textContent()).toMatch(/# /);
    await shot(page, 'eval');
  });

  it('a read-only key sees no create or ingest controls; a read-write key does', async () => {
    const keyed = await startTestServer({ LSR_API_KEYS: 'writer-key,reader-key:read' });
    try {
      await keyed.req('POST', '/v1/collections', { name: 'notes' }, { authorization: 'Bearer writer-key' });
      await keyed.ndjson('/v1/collections/notes/documents?wait=true', ndjson(DOCS.slice(0, 4)), { authorization: 'Bearer writer-key' });
      const p = await newPage();
      await p.goto(`${keyed.url}/ui#/collections`);
      await expect.poll(() => p.getByRole('alert').first().textContent()).toMatch(/API key/);
      await p.getByLabel('API key').fill('reader-key');
      await p.getByLabel('API key').press('Enter');
      await expect.poll(() => p.getByTestId('access').textContent()).toBe('read-only key');
      await p.getByTestId('collections').getByRole('row', { name: /notes/ }).waitFor();
      expect(await p.getByTestId('create-form').count()).toBe(0);
      await p.goto(`${keyed.url}/ui#/ingest`);
      await p.getByRole('heading', { name: 'Ingest' }).waitFor();
      expect(await p.getByTestId('ingest-form').count()).toBe(0);
      // Searching is reading: the playground works with the read key.
      await p.goto(`${keyed.url}/ui#/playground`);
      await p.getByLabel('Query').fill('cats');
      await p.getByRole('button', { name: 'Search' }).click();
      await p.getByTestId('hit').first().waitFor();
      await shot(p, 'read-only');

      await p.getByLabel('API key').fill('writer-key');
      await p.getByLabel('API key').press('Enter');
      await expect.poll(() => p.getByTestId('access').textContent()).toBe('read-write key');
      await p.goto(`${keyed.url}/ui#/collections`);
      await p.getByTestId('create-form').waitFor();
      await p.context().close();
    } finally {
      await keyed.close();
      await removeDir(keyed.dataDir);
    }
  });

  it('is usable from the keyboard: a skip link, the views in tab order, visible focus', async () => {
    const p = await newPage();
    await p.goto(`${server.url}/ui#/collections`);
    await p.getByTestId('collections').waitFor();
    await p.keyboard.press('Tab');
    expect(await p.evaluate(() => (globalThis as any).document.activeElement?.textContent)).toBe('Skip to content');
    const tabbed: string[] = [];
    for (let i = 0; i < 5; i++) {
      await p.keyboard.press('Tab');
      tabbed.push(await p.evaluate(() => (globalThis as any).document.activeElement?.textContent ?? ''));
    }
    expect(tabbed).toEqual(['Collections', 'Ingest', 'Playground', 'Compare', 'Evaluation']);
    // Back to Playground and open it with Enter.
    await p.keyboard.press('Shift+Tab');
    await p.keyboard.press('Shift+Tab');
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Playground' }).waitFor();
    expect(await p.evaluate(() => (globalThis as any).location.hash)).toBe('#/playground');
    expect(await p.locator('nav a[aria-current="page"]').textContent()).toBe('Playground');
    // Every form control has a name a screen reader can say.
    const unnamed = await p.evaluate(
      () =>
        [...(globalThis as any).document.querySelectorAll('input, select, textarea')].filter((e: any) => {
          const el = e as any;
          return !(el.labels?.length || el.getAttribute('aria-label'));
        }).length,
    );
    expect(unnamed).toBe(0);
    await p.context().close();
  });

  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    it(`lays out every view without sideways overflow at ${width}×${height}`, async () => {
      const p = await newPage(width, height);
      for (const view of ['collections', 'ingest', 'playground', 'compare', 'eval']) {
        await p.goto(`${server.url}/ui#/${view}`);
        await p.locator('main h1').waitFor();
        if (view === 'playground') {
          await p.getByLabel('Query').fill('cats');
          await p.getByTestId('config-pg').getByLabel('Hybrid').check();
          await p.getByRole('button', { name: 'Search' }).click();
          await p.getByTestId('fusion-explain').first().waitFor();
        }
        if (view === 'compare') {
          await p.getByLabel('Query', { exact: true }).fill('cats');
          await p.getByRole('button', { name: 'Compare', exact: true }).click();
          await p.getByTestId('rank-diagram').waitFor();
        }
        await noHorizontalOverflow(p);
        await shot(p, `${view}-${width}x${height}`);
      }
      await p.context().close();
    });
  }

  it('measures page weight and time to interactive of /ui (cold cache)', async () => {
    const runs: { bytes: number; requests: number; fcp: number; interactive: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await newPage();
      const cdp = await p.context().newCDPSession(p);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      let bytes = 0;
      let requests = 0;
      cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
        bytes += e.encodedDataLength;
        requests++;
      });
      await p.goto(`${server.url}/ui#/playground`);
      // Interactive: the query box is there and the collections list (from /v1) has filled the select.
      await p.locator('#pg-collection option').first().waitFor({ state: 'attached' });
      const t = await p.evaluate(() => ({
        interactive: performance.now(),
        fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
      }));
      await p.waitForLoadState('networkidle');
      runs.push({ bytes, requests, fcp: t.fcp, interactive: t.interactive });
      await p.context().close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const summary = {
      runs,
      median: {
        bytes: median(runs.map((r) => r.bytes)),
        requests: median(runs.map((r) => r.requests)),
        first_contentful_paint_ms: median(runs.map((r) => r.fcp)),
        interactive_ms: median(runs.map((r) => r.interactive)),
      },
    };
    await writeFile(join(ARTIFACTS, 'page-weight.json'), JSON.stringify(summary, null, 2) + '\n');
    console.log(`[ui] /ui page weight and timing (median of 5, cold cache): ${JSON.stringify(summary.median)}`);
    // The page, its script and stylesheet and the API calls of the first view.
    expect(summary.median.bytes).toBeGreaterThan(0);
    expect(summary.median.bytes).toBeLessThan(200_000);
  });
});
