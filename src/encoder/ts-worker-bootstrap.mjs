// Worker entry used only when running from TypeScript sources (vitest, tsx): registers tsx's
// loader in this worker thread, then loads the .ts worker named in workerData. `--import tsx` in a
// worker's execArgv does not reach worker threads on Node 20, and dist/ runs the compiled .js
// worker directly, so this plain JS file is never needed there.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
export default (await import(workerData.tsWorker)).default;
