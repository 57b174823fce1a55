// Refuses a Node.js older than package.json's "engines" with one line, before anything that needs a newer one
// loads (bin/run.js imports it first; `npm test` and `npm run demo` run it first). Plain JavaScript that Node 12
// parses: no ?., ??, or class fields.
import { readFileSync } from 'fs';

var pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
var wanted = String((pkg.engines && pkg.engines.node) || '');
var need = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(wanted.trim());
var have = /^v?(\d+)\.(\d+)\.(\d+)/.exec(process.version);

function older(a, b) {
  for (var i = 1; i <= 3; i++) {
    if (Number(a[i]) !== Number(b[i])) return Number(a[i]) < Number(b[i]);
  }
  return false;
}

if (need && have && older(have, need)) {
  process.stderr.write(
    'llama-dist needs Node.js ' + wanted + '; this is Node.js ' + process.version + ' (' + process.execPath + '). ' +
      'Install Node.js ' + need[1] + '.' + need[2] + ' or newer (24 LTS is tested) and run again.\n',
  );
  // 7: the environment exit class (README, "Exit codes").
  process.exit(7);
}
