// Starts the service as a child process (`lsr serve`) on a free loopback port with its own data
// folder, for `lsr eval` without `--server`. A child rather than in-process: the service gets its own
// event loop and core, the harness measures it exactly as users run it, and a crash in the native
// engine cannot take the harness down with it.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ServiceClient } from './service-client.js';

/** A running service and how to stop it. */
export interface ServiceHandle {
  client: ServiceClient;
  /** Stops the service if the harness started it; a no-op for `--server`. */
  close(): Promise<void>;
}

/** Finds a free TCP port on 127.0.0.1 by binding port 0 and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * How to run the CLI entry beside this module: the compiled `dist/src/cli/lsr.js`, or under tsx
 * (when this file is TypeScript source) `src/cli/lsr.ts` through tsx's loader.
 */
export function cliCommand(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const entry = fileURLToPath(new URL('../cli/lsr.ts', import.meta.url));
    return { command: process.execPath, args: ['--import', 'tsx', entry] };
  }
  return { command: process.execPath, args: [fileURLToPath(new URL('../cli/lsr.js', import.meta.url))] };
}

/**
 * Starts `lsr serve --host 127.0.0.1 --port <free> --data-dir <dataDir>` and resolves once
 * `GET /v1/collections` answers (default timeout 60 s). The child's output goes to `logTo` (default:
 * discarded, except that its last 4 KiB of stderr are quoted if it dies before answering).
 */
export async function startLocalService(dataDir: string, timeoutMs = 60_000): Promise<ServiceHandle> {
  const { command, args } = cliCommand();
  const entry = args[args.length - 1];
  if (!existsSync(entry)) {
    throw new Error(`cannot start a local service: ${entry} does not exist (build with npm run build:ts, or pass --server <url>)`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(command, [...args, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LSR_LOG_LEVEL: process.env.LSR_LOG_LEVEL ?? 'warn', LSR_API_KEYS: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-4096);
  });
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? code}`;
  });
  const client = new ServiceClient(`http://127.0.0.1:${port}`, undefined);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`local service ${exited} before answering:\n${stderr}`);
    try {
      const res = await fetch(`${client.baseUrl}/v1/collections`);
      if (res.ok) {
        await res.arrayBuffer();
        break;
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`local service did not answer on port ${port} within ${timeoutMs} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    client,
    async close() {
      if (exited) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Handle for a service someone else runs at `url`; closing it does nothing. */
export function remoteService(url: string): ServiceHandle {
  return { client: new ServiceClient(url), close: async () => {} };
}
