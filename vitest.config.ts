import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take minutes, longest first. A fresh clone has no timing
 * cache, and Vitest then starts the largest files first, which left the
 * longest sequential file to start last and run alone at the end.
 */
const LONG_FIRST = ['file-versions.test.ts', 'kills.test.ts', 'fuzz.test.ts', 'nightly-as-of.test.ts', 'incremental.test.ts'];

class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONG_FIRST.indexOf(basename(file.moduleId));
      return index === -1 ? LONG_FIRST.length : index;
    };
    const sorted = await super.sort(files);
    return sorted.map((file, index) => ({ file, index }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
      .map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
    // Vitest's default is one worker fewer than the cores: a single worker on
    // CI's two. The tests spend much of their time waiting on DuckDB
    // statements, child processes and servers, so one worker per core keeps
    // both busy.
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: LongFilesFirst },
  },
});
