/**
 * Arrow IPC files (the "file" format: Feather v2, what `convbill export
 * --format arrow` writes), streamed batch by batch from arrowBatches so a
 * table larger than memory is never held whole.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { AsyncByteQueue, RecordBatchFileWriter } from 'apache-arrow';
import type { Warehouse } from '../engine/duckdb/warehouse.js';
import { arrowBatches } from './arrow.js';

/**
 * The Arrow writer queues its bytes without limit; this queue instead holds
 * them until the caller writes them out after each batch, so no more than
 * one batch's bytes wait in memory.
 */
class PendingBytes extends AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(value: Parameters<AsyncByteQueue['write']>[0]): void {
    if (!ArrayBuffer.isView(value)) throw new TypeError('Arrow writer produced a non-binary chunk.');
    if (value.byteLength > 0) this.chunks.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }

  async drainTo(file: FileHandle): Promise<void> {
    const chunks = this.chunks;
    this.chunks = [];
    if (chunks.length > 0) await file.writev(chunks);
  }
}

/** Writes the result of `select` to a new file at `path` (it must not exist); returns the number of rows. */
export async function writeArrowFile(warehouse: Warehouse, select: string, path: string): Promise<number> {
  const file = await open(path, 'wx');
  try {
    const sink = new PendingBytes();
    const writer = new RecordBatchFileWriter().reset(sink);
    let rows = 0;
    for await (const batch of arrowBatches(warehouse, select)) {
      writer.write(batch);
      rows += batch.numRows;
      await sink.drainTo(file);
    }
    writer.close();
    await sink.drainTo(file);
    await file.sync();
    return rows;
  } finally {
    await file.close();
  }
}
