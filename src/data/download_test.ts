import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CIFAR100_MD5, downloadCifar10, downloadCifar100, sweepStaleDownloads } from './download.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-dl-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A local server that sends `bytes` then goes silent (or ends with a wrong body when `end`). */
async function server(bytes: number, end: boolean): Promise<{ url: string; close: () => void }> {
  const s = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(bytes * 4) });
    res.write(Buffer.alloc(bytes, 1));
    if (end) res.end(Buffer.alloc(bytes * 3, 2));
  });
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const a = s.address();
  return {
    url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/cifar.tar.gz`,
    close: () => {
      s.closeAllConnections();
      s.close();
    },
  };
}

test('a stalled download ends with one line after the stall time and leaves no temp file', async () => {
  const dir = join(tmp, 'stall');
  const srv = await server(1000, false);
  try {
    const t0 = performance.now();
    await assert.rejects(downloadCifar10(dir, srv.url, { stallSeconds: 0.5 }), /stalled: no data for 0.5 s after 0.0 MB; retry/);
    assert.ok(performance.now() - t0 < 10_000);
    assert.deepEqual(readdirSync(dir), [], 'no partial file left');
  } finally {
    srv.close();
  }
});

test('a download with the wrong md5 is refused and leaves no temp file; stale temp files of dead processes are swept', async () => {
  const dir = join(tmp, 'md5');
  const srv = await server(1000, true);
  try {
    await assert.rejects(downloadCifar10(dir, srv.url, { stallSeconds: 5 }), /md5 .* expected/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    srv.close();
  }
  // CIFAR-100 goes through the same checked download, against its own archive's md5
  const srv100 = await server(1000, true);
  try {
    await assert.rejects(
      downloadCifar100(join(tmp, 'c100'), srv100.url, { stallSeconds: 5 }),
      new RegExp(`CIFAR-100 archive has md5 .* expected ${CIFAR100_MD5}`),
    );
    assert.deepEqual(readdirSync(join(tmp, 'c100')), []);
  } finally {
    srv100.close();
  }
  // pid 2^22+7 is above Linux's pid_max default range in containers: no such process
  const stale = `cifar-10-binary.tar.gz.${2 ** 22 + 7}.1700000000000.tmp`;
  const mine = `cifar-10-binary.tar.gz.${process.pid}.1700000000000.tmp`;
  writeFileSync(join(dir, stale), 'partial');
  writeFileSync(join(dir, mine), 'in progress');
  assert.deepEqual(sweepStaleDownloads(dir), [stale]);
  assert.ok(existsSync(join(dir, mine)), "a live process's download is left alone");
});
