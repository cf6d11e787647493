import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** zxcvbn's "safely unguessable" (score 3 of 0–4): below it, a passphrase is refused. */
const MIN_SCORE = 3;
/** zxcvbn's time grows steeply with length; a prefix this long that is strong makes the whole at least as strong. */
const CHECKED_LENGTH = 64;
/** The estimator's dictionaries take ~100 MB: the worker goes away when it has been idle this long. */
const IDLE_MS = 60_000;

// The estimator runs in a worker thread: loading its dictionaries takes about a second, and one estimate
// up to hundreds of milliseconds, far past what the event loop may be held for (DESIGN.md §11). It is
// CommonJS evaluated from this string, given the packages' resolved paths, so it runs the same from the
// sources, tsc's output and the CLI bundle.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const en = require(workerData.en);
const factory = new ZxcvbnFactory({ translations: en.translations, graphs: common.adjacencyGraphs, dictionary: { ...common.dictionary, ...en.dictionary } });
parentPort.on('message', ({ id, passphrase, userInputs }) => {
  const result = factory.check(passphrase, userInputs);
  parentPort.postMessage({ id, score: result.score, warning: result.feedback.warning, suggestions: result.feedback.suggestions });
});
`;

interface Estimate {
  id: number;
  score: number;
  warning: string | null;
  suggestions: string[];
}

let worker: Worker | null = null;
let idle: NodeJS.Timeout | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (estimate: Estimate) => void; reject: (error: Error) => void }>();

function estimator(): Worker {
  if (worker) return worker;
  const require = createRequire(import.meta.url);
  const started = new Worker(WORKER, {
    eval: true,
    workerData: { core: require.resolve('@zxcvbn-ts/core'), common: require.resolve('@zxcvbn-ts/language-common'), en: require.resolve('@zxcvbn-ts/language-en') },
  });
  started.on('message', (estimate: Estimate) => {
    waiting.get(estimate.id)?.resolve(estimate);
    waiting.delete(estimate.id);
  });
  const fail = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
    if (worker === started) worker = null;
  };
  started.on('error', fail);
  started.on('exit', () => fail(new Error('the passphrase estimator stopped')));
  started.unref();
  worker = started;
  return started;
}

/**
 * Why a passphrase is too weak to be the owner's, in words for the person choosing it (zxcvbn-ts: its
 * warning and suggestions), or null when it is strong enough. `userInputs` (the owner's name and email)
 * count as guessable.
 */
export async function passphraseWeakness(passphrase: string, userInputs: readonly string[] = []): Promise<string | null> {
  clearTimeout(idle);
  const id = nextId++;
  const estimate = await new Promise<Estimate>((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    estimator().postMessage({ id, passphrase: passphrase.slice(0, CHECKED_LENGTH), userInputs: ['latchkey', ...userInputs] });
  });
  if (waiting.size === 0) {
    idle = setTimeout(() => { void worker?.terminate(); worker = null; }, IDLE_MS);
    idle.unref();
  }
  if (estimate.score >= MIN_SCORE) return null;
  const why = [estimate.warning, ...estimate.suggestions].filter((text): text is string => Boolean(text));
  return ['This passphrase is too easy to guess.', ...why, 'Use four or more uncommon words, or a longer phrase.'].join(' ');
}
