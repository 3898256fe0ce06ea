// `lsr serve`: run the HTTP service until SIGTERM/SIGINT.
import { ConfigError, loadConfig } from '../../config.js';
import { serveUntilSignal } from '../../server.js';
import { parseArgs } from '../args.js';

export async function run(argv: string[]): Promise<number> {
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
  return serveUntilSignal(config);
}
