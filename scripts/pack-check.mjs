// Packs every publishable package with `pnpm pack`, installs the tarballs into a fresh folder with npm and imports
// each package's entry points there: the published artefacts work outside the workspace.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'slmkit-pack-'));
const packages = ['packages', 'apps']
  .flatMap((group) => readdirSync(join(root, group)).map((dir) => join(root, group, dir)))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter((p) => !p.manifest.private);

const tarballs = [];
for (const p of packages) {
  execFileSync('pnpm', ['pack', '--pack-destination', out], { cwd: p.dir, stdio: ['ignore', 'ignore', 'inherit'] });
}
for (const f of readdirSync(out)) if (f.endsWith('.tgz')) tarballs.push(join(out, f));
if (tarballs.length !== packages.length)
  throw new Error(`expected ${packages.length} tarballs, found ${tarballs.length}`);

const app = join(out, 'app');
execFileSync('mkdir', ['-p', app]);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
execFileSync(
  'npm',
  ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=dev', '--omit=optional', ...tarballs],
  {
    cwd: app,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    timeout: 900_000,
  },
);

const imports = [];
for (const p of packages) {
  for (const [subpath, target] of Object.entries(p.manifest.exports ?? {})) {
    if (subpath === './package.json' || typeof target !== 'object') continue;
    imports.push(subpath === '.' ? p.manifest.name : `${p.manifest.name}/${subpath.slice(2)}`);
  }
}
const script = `${imports.map((s, i) => `import * as m${i} from '${s}';`).join('\n')}
const all = [${imports.map((_, i) => `m${i}`).join(', ')}];
for (const [i, m] of all.entries()) if (Object.keys(m).length === 0) throw new Error('empty module ' + i);
const { generateText } = m0;
console.log('imported', all.length, 'entry points');
`;
writeFileSync(join(app, 'check.mjs'), script);
execFileSync(process.execPath, ['check.mjs'], { cwd: app, stdio: 'inherit' });
const bin = join(app, 'node_modules', '.bin', 'slm');
const help = execFileSync(bin, ['--help'], { encoding: 'utf8' });
if (!help.includes('generate')) throw new Error('the installed slm bin did not print its help');
console.log(`pack check passed: ${tarballs.length} tarballs installed and imported in ${app}`);
