#!/usr/bin/env node
// `lsr` dispatcher: each subcommand lives in commands/<name>.ts and exports run(argv) -> exit code.
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  serve: {
    summary: 'run the HTTP service (LSR_HOST, LSR_PORT, LSR_DATA_DIR or --host/--port/--data-dir)',
    load: () => import('./commands/serve.js'),
  },
  index: {
    summary: 'index <collection> <file.jsonl | ->: bulk ingest NDJSON with a progress bar',
    load: () => import('./commands/index.js'),
  },
  search: { summary: 'search <collection> "<query>": search and print hits', load: () => import('./commands/search.js') },
  collections: { summary: 'list collections', load: () => import('./commands/collections.js') },
  eval: { summary: 'evaluate retrievers on a BEIR folder (see docs/evaluation.md)', load: () => import('./commands/eval.js') },
  train: {
    summary: 'train an inference-free sparse encoder on a corpus without labels (see docs/training.md)',
    load: () => import('./commands/train.js'),
  },
  models: { summary: 'pull <source>: fetch a registry model; list: the model cache', load: () => import('./commands/models.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`);
  return `usage: lsr <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'lsr <command> --help' (or 'lsr help <command>') prints the command's options.\nOffline commands open --data-dir (default ./data) in-process; add --server URL to use a running service.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `lsr help <command>` is `lsr <command> --help`: each command prints its own flags.
  if (name === 'help' && rest.length > 0) return main([rest[0], '--help']);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`lsr: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let mod;
  try {
    mod = await cmd.load();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(`commands/${name}.`)) {
      process.stderr.write(`lsr: the '${name}' command is not installed in this build (commands/${name}.js is missing)\n`);
      return 2;
    }
    throw e;
  }
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // Expected failures (configuration, a data directory in use, the addon not built) get their
    // message alone; anything else gets the stack for a bug report.
    const e = err as Error & { code?: string };
    const known =
      e instanceof Error &&
      (e.name === 'ConfigError' || e.name === 'DataDirLockedError' || e.name === 'ServiceError' || e.code === 'NATIVE_NOT_BUILT');
    process.stderr.write(`lsr: ${known ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
