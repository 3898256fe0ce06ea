// Runs the Python peers (bench/peers/*.py) as child processes on the vectors this run wrote.
// A peer that cannot be imported is installed once with pip; if that fails too, the run goes on
// and reports the peer as null with the installer's own words.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');
export const PYTHON = process.env.PYTHON ?? 'python3';

export interface PeerAvailability {
  ok: boolean;
  /** Why not, verbatim from Python or pip, when !ok. */
  reason?: string;
  installLog?: string;
}

/** Checks that `module` imports; if not and `install` is set, pip-installs `pkgs` and checks again. */
export function ensurePython(module: string, pkgs: string[], install: boolean): PeerAvailability {
  const check = () => spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' });
  let r = check();
  if (r.error) return { ok: false, reason: `cannot run ${PYTHON}: ${r.error.message}` };
  if (r.status === 0) return { ok: true };
  const importErr = (r.stderr || '').trim().split('\n').slice(-1)[0];
  if (!install) return { ok: false, reason: `import ${module} failed: ${importErr}` };
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', ...pkgs], { encoding: 'utf8' });
  const installLog = `${pip.stdout ?? ''}${pip.stderr ?? ''}`.trim();
  r = check();
  if (r.status === 0) return { ok: true, installLog };
  return {
    ok: false,
    reason: `import ${module} failed (${importErr}); pip install ${pkgs.join(' ')} exited ${pip.status}: ${installLog.split('\n').slice(-5).join(' | ')}`,
    installLog,
  };
}

export interface PeerRun<T> {
  ok: boolean;
  result?: T;
  error?: string;
  seconds: number;
}

/**
 * Runs bench/peers/<script> with args; its last stdout line is its JSON result. Progress on its
 * stderr is forwarded to ours, prefixed, so a long 1M-document run shows where it is.
 */
export function runPeer<T>(script: string, args: string[], env: Record<string, string> = {}, timeoutS = 0): Promise<PeerRun<T>> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [join(PEERS_DIR, script), ...args], {
      cwd: PEERS_DIR,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A peer whose build runs past the budget is stopped and reported, so the run still finishes.
    let timedOut = false;
    const timer =
      timeoutS > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
          }, timeoutS * 1000)
        : null;
    let out = '',
      errTail = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      const s = b.toString();
      errTail = (errTail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim()) process.stderr.write(`  [${script}] ${line}\n`);
    });
    child.on('error', (e) => resolve({ ok: false, error: e.message, seconds: (performance.now() - t0) / 1000 }));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (timedOut)
        return resolve({
          ok: false,
          error: `${script} stopped after the ${timeoutS} s peer time limit (--peer-timeout): ${errTail.trim().split('\n').slice(-1)[0] ?? ''}`,
          seconds,
        });
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0) {
        try {
          return resolve({ ok: true, result: JSON.parse(last) as T, seconds });
        } catch {
          /* fall through: report the output */
        }
      }
      const why = signal ? `killed by ${signal}` : `exited ${code}`;
      resolve({ ok: false, error: `${script} ${why}: ${errTail.trim().split('\n').slice(-3).join(' | ')}`, seconds });
    });
  });
}
