/**
 * Line endings: a text file's lines end at LF, CRLF or a lone CR alike
 * (docs/billing-rules.md §5 counts physical lines). DuckDB's strict CSV reader takes one
 * kind per file and stops at a mix, so a file holding any CR is read from a
 * copy whose every line ends in LF. The copy is a byte stream through Node:
 * bounded memory, native regular-expression speed, no row parsing.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';

const isGzip = (file: string) => /\.gz$/i.test(file);

function decompressed(file: string): NodeJS.ReadableStream {
  const raw = createReadStream(file);
  return isGzip(file) ? raw.pipe(createGunzip()) : raw;
}

/** Whether the file's text (decompressed) holds a carriage return. */
export async function hasCarriageReturn(file: string): Promise<boolean> {
  for await (const chunk of decompressed(file)) if ((chunk as Buffer).includes(13)) return true;
  return false;
}

/**
 * Writes `file`'s text to `target` with CRLF and lone CR turned into LF.
 * Bytes map one to one through latin1, so any single-byte-newline encoding
 * (UTF-8, Latin-1) passes unchanged; UTF-16 is never given here.
 */
export async function copyWithLf(file: string, target: string): Promise<void> {
  let pendingCr = false;
  const toLf = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let text = (pendingCr ? '\r' : '') + chunk.toString('latin1');
      // a CR at the end of a chunk may be the first half of a CRLF
      pendingCr = text.endsWith('\r');
      if (pendingCr) text = text.slice(0, -1);
      done(null, Buffer.from(text.replace(/\r\n?/g, '\n'), 'latin1'));
    },
    flush(done) {
      done(null, pendingCr ? Buffer.from('\n') : null);
    },
  });
  await pipeline(decompressed(file), toLf, createWriteStream(target));
}
