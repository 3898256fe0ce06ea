// `lsr serve`: run the HTTP service until SIGTERM/SIGINT.
import { ConfigError, loadConfig } from '../../config.js';
import { parseArgs, wantsHelp } from '../args.js';

// Each flag overrides its environment variable (src/config.ts); README's Configuration table has
// the variables that have no flag.
const HELP = `usage: lsr serve [options]

Runs the HTTP service (API under /v1, docs at /docs) until SIGTERM or SIGINT.

Options (each overrides its environment variable):
  --host <addr>         listen address (LSR_HOST, default 127.0.0.1)
  --port <n>            listen port, 0 for any free one (LSR_PORT, default 7700)
  --data-dir <dir>      where collections live (LSR_DATA_DIR, default ./data)
  --api-keys <list>     comma-separated key, key:read or key:write (LSR_API_KEYS; needed off loopback)
  --body-limit <bytes>  max bytes of a JSON body (LSR_BODY_LIMIT, default 1048576)
  --rate-limit <n>      requests per second per key or address, 0 = off (LSR_RATE_LIMIT, default 0)
  --batch-size <n>      documents per ingest commit (LSR_BATCH_SIZE, default 2000)
  --log-level <level>   pino level (LSR_LOG_LEVEL, default info)
  -h, --help            this help
`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(HELP);
    return 0;
  }
  const { flags } = parseArgs(argv);
  let config;
  try {
    config = loadConfig(process.env, flags);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`lsr serve: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  // Loaded after the help check: the server pulls in the native addon, which help must not need.
  const { serveUntilSignal } = await import('../../server.js');
  return serveUntilSignal(config);
}
