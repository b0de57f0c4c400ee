import {
  isMainThread,
  type MessagePort,
  parentPort,
  Worker,
  workerData,
} from "node:worker_threads";
import { type FileMatches, searchFiles, type TextFile } from "./bundle-search.ts";
import { SentenceIndex } from "./sentence-index.ts";

/**
 * The leak scan's search spread over worker threads, for public bundles large
 * enough that searching them takes seconds: the build's last step, while
 * nothing else runs, can use every core. Each worker builds its own index of
 * the sentences, then asks for files in batches, largest first, until none are
 * left, so that a worker slowed down by a big feed holds no other work back.
 *
 * This module is also the workers' code: loaded in a thread started below, it
 * serves the thread's requests instead of exporting anything useful.
 */

type ToWorker =
  | { type: "start"; root: string; sentences: string[] }
  | { type: "files"; files: string[] };

/** The results of a batch, which also ask for the next (the first, empty, for the first). */
interface FromWorker {
  matches: FileMatches[];
}

const WORKER_ROLE = "tierwall-leak-scan";
/** A batch ends after this many bytes of files, so the load stays even. */
const BATCH_BYTES = 1 << 20;
const BATCH_FILES = 200;

// The workers' source is TypeScript, like the rest of the plugin: each worker
// registers tsx before loading it, as the build's own thread does in buildSite.
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx).then((tsx) => {
  tsx.register();
  return import(workerData.entry);
});
`;

export interface SearchWorkers {
  search(
    root: string,
    files: readonly TextFile[],
    sentences: string[],
  ): Promise<FileMatches[]>;
  close(): Promise<void>;
}

/**
 * Starts the threads now, so they load while the caller prepares the
 * sentences. `heapMb` caps each thread's heap: left to its defaults, V8 lets a
 * thread that reads one large file after another grow its heap by hundreds of
 * megabytes before it collects anything.
 */
export function startSearchWorkers(threads: number, heapMb: number): SearchWorkers {
  const workers = Array.from(
    { length: threads },
    () =>
      new Worker(BOOTSTRAP, {
        eval: true,
        resourceLimits: { maxOldGenerationSizeMb: heapMb },
        workerData: {
          role: WORKER_ROLE,
          tsx: import.meta.resolve("tsx/esm/api"),
          entry: import.meta.url,
        },
      }),
  );
  const close = async () => {
    await Promise.all(workers.map((worker) => worker.terminate()));
  };

  return {
    async search(root, files, sentences) {
      const batches = intoBatches(files);
      const results = await Promise.all(
        workers.map((worker) => runWorker(worker, root, sentences, batches)),
      );
      return results.flat();
    },
    close,
  };
}

/** Feeds one worker batches from the shared queue until the queue is empty. */
function runWorker(
  worker: Worker,
  root: string,
  sentences: string[],
  batches: string[][],
): Promise<FileMatches[]> {
  const collected: FileMatches[] = [];
  return new Promise((resolve, reject) => {
    worker.on("error", reject);
    worker.on("exit", (code) => {
      reject(new Error(`[build] a leak scan worker stopped early (exit code ${code})`));
    });
    worker.on("message", ({ matches }: FromWorker) => {
      collected.push(...matches);
      const files = batches.shift();
      if (files) worker.postMessage({ type: "files", files } satisfies ToWorker);
      else resolve(collected);
    });
    worker.postMessage({ type: "start", root, sentences } satisfies ToWorker);
  });
}

function intoBatches(files: readonly TextFile[]): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let bytes = 0;
  for (const { file, size } of files) {
    batch.push(file);
    bytes += size;
    if (bytes >= BATCH_BYTES || batch.length >= BATCH_FILES) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** The worker's side: build the index once, then search each batch it is sent. */
function serveSearches(port: MessagePort): void {
  let index: SentenceIndex | undefined;
  let root = "";

  port.on("message", (message: ToWorker) => {
    if (message.type === "start") {
      index = new SentenceIndex(message.sentences);
      root = message.root;
      port.postMessage({ matches: [] } satisfies FromWorker);
      return;
    }
    if (!index)
      throw new Error("[build] leak scan worker: files arrived before sentences");
    port.postMessage({
      matches: searchFiles(root, message.files, index),
    } satisfies FromWorker);
  });
}

if (!isMainThread && parentPort && workerData?.role === WORKER_ROLE) {
  serveSearches(parentPort);
}
