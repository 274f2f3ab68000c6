import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { connectionFrom } from './queue.js';

const tmp = mkdtempSync(join(tmpdir(), 'auraprune-qpw-'));
const saved = { pw: process.env.REDIS_PASSWORD, file: process.env.REDIS_PASSWORD_FILE };
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const [k, v] of [
    ['REDIS_PASSWORD', saved.pw],
    ['REDIS_PASSWORD_FILE', saved.file],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

test('the Redis password comes from REDIS_PASSWORD or a file, so it never has to sit in the URL (and in ps)', () => {
  delete process.env.REDIS_PASSWORD;
  delete process.env.REDIS_PASSWORD_FILE;
  assert.equal(connectionFrom('redis://127.0.0.1:6379').password, undefined);
  const f = join(tmp, 'pw');
  writeFileSync(f, 's3cret\n');
  process.env.REDIS_PASSWORD_FILE = f;
  assert.equal(connectionFrom('redis://127.0.0.1:6379').password, 's3cret', 'one trailing newline dropped');
  process.env.REDIS_PASSWORD = 'from-env';
  assert.equal(connectionFrom('redis://127.0.0.1:6379').password, 'from-env', 'the variable wins over the file');
  assert.equal(connectionFrom('redis://:inurl@127.0.0.1:6379').password, 'inurl', 'a URL password still works');
  delete process.env.REDIS_PASSWORD;
  process.env.REDIS_PASSWORD_FILE = join(tmp, 'missing');
  assert.throws(() => connectionFrom('redis://127.0.0.1:6379'), /--queue-password-file .*missing: cannot read it \(ENOENT\)/);
  writeFileSync(f, '');
  process.env.REDIS_PASSWORD_FILE = f;
  assert.throws(() => connectionFrom('redis://127.0.0.1:6379'), /is empty/);
});
