// Starts the service in-process, for `lsr eval` without `--server`: the service's own Fastify app
// (src/api/app.ts) on its own data folder, listening on a free loopback port. The harness then talks
// HTTP to it exactly as to a remote service, so both paths go through the same routes and the same
// client code, and the numbers are those users get.

import { buildApp } from '../api/app.js';
import { loadConfig } from '../config.js';
import { ServiceClient, type ServiceHandle } from './service-client.js';

/**
 * Builds the service app on `dataDir` and listens on 127.0.0.1 at a port the OS picks. API keys and
 * rate limits are off (loopback only). Logs at `LSR_LOG_LEVEL` (default `warn`) go to stderr, so
 * stdout stays for results.
 */
export async function startLocalService(dataDir: string): Promise<ServiceHandle> {
  const config = loadConfig(
    // The environment with harness defaults; loadConfig reads and checks every setting in it.
    { LSR_LOG_LEVEL: 'warn', ...process.env, LSR_API_KEYS: '', LSR_RATE_LIMIT: '0' },
    { host: '127.0.0.1', port: '0', 'data-dir': dataDir },
  );
  const { app } = await buildApp(config, { level: config.logLevel, stream: process.stderr });
  let closing: Promise<void> | undefined;
  try {
    const url = await app.listen({ host: config.host, port: 0 });
    return { client: new ServiceClient(url, null), close: () => (closing ??= app.close()) };
  } catch (e) {
    await app.close();
    throw e;
  }
}
