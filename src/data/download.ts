/**
 * Downloads the official CIFAR-10 binary archive with a progress bar into a temp file, renames it
 * only after its md5 matches, then extracts the batch files (a minimal ustar reader: the archive
 * holds plain files only).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Progress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic.js';
import { alive } from '../util/rundir.js';
import { DataError, OFFICIAL_MD5 } from './cifar10.js';

export const ARCHIVE_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const ARCHIVE_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR100_URL = 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz';
/** md5 of the official cifar-100-binary.tar.gz (168,513,733 bytes). */
export const CIFAR100_MD5 = '03b5dce01913d631647c71ecec9e9cb8';

/** What is fetched: the archive's name, official md5 and size (for the progress bar when unannounced). */
interface ArchiveSpec {
  label: string;
  file: string;
  md5: string;
  size: number;
}
const CIFAR10_ARCHIVE: ArchiveSpec = { label: 'CIFAR-10', file: 'cifar-10-binary.tar.gz', md5: ARCHIVE_MD5, size: 170498071 };
const CIFAR100_ARCHIVE: ArchiveSpec = { label: 'CIFAR-100', file: 'cifar-100-binary.tar.gz', md5: CIFAR100_MD5, size: 168513733 };

/**
 * Files of a tar archive (regular files only), by base name. Untrusted input: the size field must be
 * octal digits, and every entry must lie inside the archive, so each step advances and the loop ends.
 */
export function untar(tar: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let off = 0;
  const text = (o: number, len: number) => new TextDecoder().decode(tar.subarray(o, o + len)).replace(/\0.*$/s, '');
  while (off + 512 <= tar.length) {
    const name = text(off, 100);
    if (!name) break;
    const field = text(off + 124, 12).trim() || '0';
    if (!/^[0-7]{1,11}$/.test(field))
      throw new DataError(`tar entry ${JSON.stringify(name)} has an invalid size field ${JSON.stringify(field)}: the archive is corrupt`);
    const size = parseInt(field, 8);
    if (off + 512 + size > tar.length)
      throw new DataError(`tar entry ${JSON.stringify(name)} (${size} bytes) runs past the end of the archive: it is truncated`);
    const type = text(off + 156, 1);
    if (type === '0' || type === '') out.set(name.split('/').pop()!, tar.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Extracts the six batch files (and batches.meta.txt) from the gzipped archive into dir, checking md5s. */
export function extractArchive(gz: Uint8Array, dir: string): void {
  const files = untar(gunzipSync(gz));
  mkdirSync(dir, { recursive: true });
  for (const [name, md5] of Object.entries(OFFICIAL_MD5)) {
    const data = files.get(name);
    if (!data) throw new DataError(`the CIFAR-10 archive lacks ${name}: delete it and download again`);
    const got = createHash('md5').update(data).digest('hex');
    if (got !== md5)
      throw new DataError(`${name} in the archive has md5 ${got}, expected ${md5}: the download is corrupt; delete it and retry`);
    writeFileAtomic(join(dir, name), data);
  }
  const meta = files.get('batches.meta.txt');
  if (meta) writeFileAtomic(join(dir, 'batches.meta.txt'), meta);
}

/** Seconds without a byte after which a download is given up (AURAPRUNE_DOWNLOAD_STALL_S overrides). */
export const STALL_SECONDS = 30;

const TMP_RE = /^cifar-10-binary\.tar\.gz\.(\d+)\.\d+\.tmp$/;

/** Removes partial downloads left by processes that no longer run (a killed download leaves up to 170 MB). */
export function sweepStaleDownloads(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const gone: string[] = [];
  for (const f of readdirSync(dir)) {
    const m = TMP_RE.exec(f);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      rmSync(join(dir, f), { force: true });
      gone.push(f);
    }
  }
  return gone;
}

export async function downloadCifar10(dir: string, url = ARCHIVE_URL, o: { stallSeconds?: number } = {}): Promise<void> {
  const archive = await fetchVerified(dir, url, CIFAR10_ARCHIVE, o);
  extractArchive(readFileSync(archive), dir);
}

/** The official CIFAR-100 binary archive into `dir` (md5-checked), extracted: train.bin, test.bin and the label names. */
export async function downloadCifar100(dir: string, url = CIFAR100_URL, o: { stallSeconds?: number } = {}): Promise<void> {
  const archive = await fetchVerified(dir, url, CIFAR100_ARCHIVE, o);
  const files = untar(gunzipSync(readFileSync(archive)));
  for (const name of ['train.bin', 'test.bin', 'fine_label_names.txt', 'coarse_label_names.txt']) {
    const data = files.get(name);
    if (!data) throw new DataError(`the CIFAR-100 archive ${archive} lacks ${name}: delete it and download again`);
    writeFileAtomic(join(dir, name), data);
  }
}

/** The archive in `dir`, downloaded unless a copy with the official md5 is there (a copy without it is replaced). */
async function fetchVerified(dir: string, url: string, spec: ArchiveSpec, o: { stallSeconds?: number }): Promise<string> {
  mkdirSync(dir, { recursive: true });
  sweepStaleDownloads(dir);
  const archive = join(dir, spec.file);
  if (existsSync(archive) && createHash('md5').update(readFileSync(archive)).digest('hex') !== spec.md5) {
    process.stderr.write(`${archive} does not have the official md5; downloading it again\n`);
    rmSync(archive, { force: true });
  }
  if (!existsSync(archive))
    await fetchArchive(url, archive, o.stallSeconds ?? (Number(process.env.AURAPRUNE_DOWNLOAD_STALL_S) || STALL_SECONDS), spec);
  return archive;
}

/**
 * Streams `url` into a temp file beside `archive` and renames it once its md5 is the official one.
 * A connection that sends nothing for `stallSeconds` is aborted; the temp file is removed on every
 * way out (an error, a stall, Ctrl-C or SIGTERM).
 */
async function fetchArchive(url: string, archive: string, stallSeconds: number, spec: ArchiveSpec): Promise<void> {
  const tmp = `${archive}.${process.pid}.${Date.now()}.tmp`;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let done = 0;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), stallSeconds * 1000);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    rmSync(tmp, { force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stalled = () =>
    new DataError(
      `download of ${url} stalled: no data for ${stallSeconds} s after ${(done / 2 ** 20).toFixed(1)} MB; retry, or download it by hand and pass --data DIR or set CIFAR10_DIR`,
    );
  let renamed = false;
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (e) {
      if (abort.signal.aborted) throw stalled();
      throw new DataError(
        `could not download ${spec.label} from ${url} (${(e as Error).message}); download it by hand and pass --data DIR${spec === CIFAR10_ARCHIVE ? ' or set CIFAR10_DIR' : ''}`,
      );
    }
    if (!res.ok || !res.body) throw new DataError(`download of ${url} failed with HTTP ${res.status}; pass --data DIR or set CIFAR10_DIR`);
    const total = Number(res.headers.get('content-length') ?? spec.size);
    const bar = new Progress(`download ${spec.label}`, total, 'B');
    const hash = createHash('md5');
    const file = createWriteStream(tmp);
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        hash.update(chunk);
        file.write(chunk);
        done += chunk.length;
        bar.update(done);
      }
    } catch (e) {
      if (abort.signal.aborted) throw stalled();
      throw new DataError(`download of ${url} broke off after ${(done / 2 ** 20).toFixed(1)} MB (${(e as Error).message}); retry`);
    } finally {
      await new Promise<void>((resolve) => file.end(() => resolve()));
    }
    const got = hash.digest('hex');
    if (got !== spec.md5)
      throw new DataError(
        `downloaded ${spec.label} archive has md5 ${got}, expected ${spec.md5}: retry, or download by hand and pass --data DIR`,
      );
    renameSync(tmp, archive);
    renamed = true;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!renamed) rmSync(tmp, { force: true });
  }
}
