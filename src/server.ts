// Listens and shuts down gracefully: on SIGTERM/SIGINT the app stops accepting, running ingest jobs
// commit what they read and stop, the index is committed and files are closed.
import type { FastifyInstance } from 'fastify';
import { buildApp } from './api/app.js';
import type { Config } from './config.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config): Promise<RunningServer> {
  const { app } = await buildApp(config, { level: config.logLevel });
  const url = await app.listen({ host: config.host, port: config.port });
  let closing: Promise<void> | undefined;
  return { app, url, close: () => (closing ??= app.close()) };
}

/** Runs until a signal; resolves with the process exit code. */
export async function serveUntilSignal(config: Config): Promise<number> {
  const server = await startServer(config);
  server.app.log.info({ url: server.url, dataDir: config.dataDir, auth: config.apiKeys.length > 0 }, 'lsr serving');
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal: the store already holds every acknowledged write.
        server.app.log.warn({ signal }, 'second signal, exiting now');
        process.exit(1);
      }
      stopping = true;
      server.app.log.info({ signal }, 'shutting down');
      const hard = setTimeout(() => {
        server.app.log.warn('shutdown timed out; exiting (committed data is safe in the store)');
        resolve(1);
      }, config.shutdownTimeoutMs + 5000);
      hard.unref();
      server.close().then(
        () => resolve(0),
        (err) => {
          server.app.log.error({ err }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
