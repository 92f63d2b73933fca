// Files sent after a model on a call: their sha256 and size, read as a stream (weights may be gigabytes).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The sha256 (hex) and size of a file, read once in 1 MiB chunks. */
export async function fileDigest(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
