// Rewrites the README's "Does aura MI prune better?" block from the committed study documents
// (docs/study*/study.json); tests/readme_study_test.ts fails until this has run after a study changes.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { writeReadmeStudy } = await import(resolve(root, 'dist/report/study_readme.js'));
console.log(writeReadmeStudy(root) ? 'README.md: study block rewritten' : 'README.md: study block already current');
