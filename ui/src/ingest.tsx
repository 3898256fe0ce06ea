// Ingest: paste or upload NDJSON, start a job (POST .../documents, 202), and watch it through
// GET /v1/jobs/{id}: progress, documents per second, ETA and the lines refused; past jobs below.
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, type JobReport, jobs, startIngest } from './api.js';
import { bytes, duration, num } from './format.js';
import { CollectionSelect } from './collection-select.js';
import type { Ctx } from './main.js';

const POLL_MS = 400;

export function IngestView({ ctx }: { ctx: Ctx }) {
  const [collection, setCollection] = useState(ctx.collections[0]?.name ?? '');
  const [text, setText] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [watching, setWatching] = useState<JobReport | null>(null);
  const [past, setPast] = useState<JobReport[]>([]);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);

  const loadPast = async () => {
    try {
      setPast(await jobs(ctx.api, 20));
    } catch (e) {
      setError(errorText(e));
    }
  };
  useEffect(() => {
    void loadPast();
    return () => window.clearTimeout(timer.current);
  }, []);
  useEffect(() => {
    if (!collection && ctx.collections[0]) setCollection(ctx.collections[0].name);
  }, [ctx.collections]);

  const watch = (id: string) => {
    window.clearTimeout(timer.current);
    const tick = async () => {
      try {
        const j = await ctx.api.job(id);
        setWatching(j);
        if (j.state === 'queued' || j.state === 'running') timer.current = window.setTimeout(tick, POLL_MS);
        else {
          void loadPast();
          void ctx.reload();
        }
      } catch (e) {
        setError(errorText(e));
      }
    };
    void tick();
  };

  const start = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const body = file ?? text;
    if (!collection) return setError('Choose a collection first (create one under Collections).');
    if (!file && !text.trim()) return setError('Paste NDJSON or choose a file: one JSON document per line.');
    try {
      const j = await startIngest(ctx.api, collection, body);
      setWatching(j);
      watch(j.id);
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section aria-labelledby="ingest-h">
      <h1 id="ingest-h">Ingest</h1>
      {ctx.canWrite && (
        <form class="card" onSubmit={start} data-testid="ingest-form">
          <CollectionSelect id="i-collection" value={collection} collections={ctx.collections} onChange={setCollection} />
          <div class="row">
            <label for="i-text">NDJSON (one document per line)</label>
            <textarea
              id="i-text"
              rows={7}
              value={text}
              disabled={file !== null}
              onInput={(e) => setText(e.currentTarget.value)}
              placeholder='{"_id": "1", "title": "Cats", "text": "Cats purr and sleep.", "metadata": {"year": 2020}}'
            />
          </div>
          <div class="row">
            <label for="i-file">Or upload an NDJSON file</label>
            <input
              id="i-file"
              type="file"
              accept=".ndjson,.jsonl,.json,application/x-ndjson"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
            {file && (
              <p class="hint">
                {file.name}, {bytes(file.size)} (sent as it is, streamed by the service)
              </p>
            )}
          </div>
          <button type="submit">Start ingest job</button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {watching && <JobPanel job={watching} />}
      <h2>Past jobs</h2>
      <div class="scroll">
        <table data-testid="past-jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Collection</th>
              <th scope="col">State</th>
              <th scope="col">Indexed</th>
              <th scope="col">Refused</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {past.map((j) => (
              <tr key={j.id}>
                <th scope="row">
                  <button type="button" class="link" onClick={() => watch(j.id)}>
                    {j.id}
                  </button>
                </th>
                <td>{j.collection}</td>
                <td>{j.state}</td>
                <td class="n">{j.indexed}</td>
                <td class="n">{j.rejected}</td>
                <td>{new Date(j.created_at).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function JobPanel({ job }: { job: JobReport }) {
  const done = job.state === 'committed' || job.state === 'failed';
  // Bytes read of the body when its length is known; else documents indexed of those accepted.
  const fraction = done
    ? 1
    : job.bytes_total
      ? Math.min(1, job.bytes_read / job.bytes_total) * (job.accepted ? Math.min(1, job.indexed / job.accepted) : 0)
      : job.accepted
        ? job.indexed / job.accepted
        : 0;
  return (
    <div class="card" data-testid="job" aria-live="polite">
      <h2>
        Job <code>{job.id}</code> on {job.collection}: <span data-testid="job-state">{job.state}</span>
      </h2>
      <label for="job-progress">Progress</label>
      <progress id="job-progress" max={1} value={fraction} aria-valuetext={`${Math.round(fraction * 100)}%`} />
      <dl class="stats">
        <div>
          <dt>Lines read</dt>
          <dd>{job.lines}</dd>
        </div>
        <div>
          <dt>Accepted</dt>
          <dd>{job.accepted}</dd>
        </div>
        <div>
          <dt>Indexed</dt>
          <dd data-testid="job-indexed">{job.indexed}</dd>
        </div>
        <div>
          <dt>Refused</dt>
          <dd data-testid="job-rejected">{job.rejected}</dd>
        </div>
        <div>
          <dt>Docs/s</dt>
          <dd>{num(job.docs_per_second, 1)}</dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd>{done ? 'done' : duration(job.eta_seconds)}</dd>
        </div>
        <div>
          <dt>Read</dt>
          <dd>
            {bytes(job.bytes_read)}
            {job.bytes_total ? ` of ${bytes(job.bytes_total)}` : ''}
          </dd>
        </div>
      </dl>
      {job.error && (
        <p class="error" role="alert">
          {job.error.code}: {job.error.message}
        </p>
      )}
      {job.errors.length > 0 && (
        <div class="scroll">
          <table data-testid="line-errors">
            <caption>Lines refused{job.errors_truncated ? ' (first ones only)' : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Code</th>
                <th scope="col">Field</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {job.errors.map((e) => (
                <tr key={e.line}>
                  <td class="n">{e.line}</td>
                  <td>{e.code}</td>
                  <td>{e.field ?? ''}</td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
