// The TypeScript declarations, result types included (src/results.d.ts, generated from the
// catalog), checked with tsc: test/types/ok.ts must compile as it is, and test/types/misuse.ts
// must fail with exactly the errors its `// error TSnnnn` comments mark, line by line.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const typesDir = join(here, 'types');
// typescript's `exports` leave out its bin; its package.json leads there.
const typescriptDir = dirname(createRequire(import.meta.url).resolve('typescript/package.json'));
const tsc = join(typescriptDir, JSON.parse(readFileSync(join(typescriptDir, 'package.json'), 'utf8')).bin.tsc);

/** Runs tsc on a project; resolves to its exit code and the `file(line,col): error TSnnnn` lines. */
async function typeCheck(project) {
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd: here });
    return { code: 0, errors: [] };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    const errors = `${e.stdout}`.split('\n').filter((l) => /\): error TS\d+/.test(l));
    return { code: e.code, errors, output: `${e.stdout}${e.stderr}` };
  }
}

test('the result types fit their uses (ok.ts compiles)', async () => {
  const { code, output } = await typeCheck(join(typesDir, 'tsconfig.json'));
  assert.equal(code, 0, output);
});

test('misusing a result is a type error, exactly where misuse.ts says', async () => {
  const expected = [];
  readFileSync(join(typesDir, 'misuse.ts'), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const marker = /\/\/ error (TS\d+)$/.exec(line);
      if (marker) expected.push(`${i + 1} ${marker[1]}`);
    });
  assert.ok(expected.length >= 5, 'misuse.ts marks its errors');
  const { code, errors, output } = await typeCheck(join(typesDir, 'tsconfig.misuse.json'));
  assert.notEqual(code, 0, 'tsc accepted misuse.ts');
  const found = errors.map((l) => {
    const [, file, line, ts] = /^(.*)\((\d+),\d+\): error (TS\d+)/.exec(l);
    assert.match(file, /misuse\.ts$/, output);
    return `${line} ${ts}`;
  });
  assert.deepEqual(found, expected, output);
});
