// lab.mjs - a real lab for browser tests: `ctdlab up` in a fresh temporary
// directory with every daemon on an ephemeral port (the daemons of
// $CTDLAB_BINDIR, default bin/), optional [lab] settings in a lab.ini, and
// `ctdlab down` plus removal afterwards. The consoles' URLs and logins come
// from the daemons' ready files (info.console).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const APPLIANCES = ['imsva', 'ddan', 'tmcm', 'sps', 'ddi'];
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const BINDIR = path.resolve(ROOT, process.env.CTDLAB_BINDIR || 'bin');

// Every listener on an ephemeral port; DDI reads no live interface (tests
// must not depend on capture privileges).
function labEnv() {
  const env = { ...process.env, CTDLAB_DDI_CAPTURE: 'no' };
  for (const v of ['DDAN_PORT', 'DDI_PORT', 'TMCM_PORT', 'SPS_PORT', 'IMSVA_PORT',
    'IMSVA_SMTP_PORT', 'SPS_WRS_PORT', 'DDI_DOWNLOAD_PORT'])
    env[`CTDLAB_${v}`] = '0';
  return env;
}

export function ctdlab(dir, args, opts = {}) {
  const config = opts.config ? ['--config', opts.config] : [];
  return execFileSync(path.join(BINDIR, 'ctdlab'), ['--dir', dir, ...config, ...args],
    { env: labEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function logTail(dir, appliance) {
  try {
    return readFileSync(path.join(dir, 'log', `${appliance}.log`), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

// A daemon that died while the tests ran: say so, with its log, before the
// lab directory goes away.
function reportDeadDaemons(dir, config) {
  let out;
  try {
    out = ctdlab(dir, ['--json', 'status'], { config });
  } catch (e) {
    out = e.stdout; // exit 3: not every appliance is healthy
  }
  for (const st of JSON.parse(out || '[]'))
    if (!st.running)
      console.error(`ctdlab lab ${dir}: ${st.appliance} is not running\n${logTail(dir, st.appliance)}`);
}

// Start a lab; lab = { dir, config, consoles: {imsva: {url, user, password}},
// status(), stop() }. settings: keys of [lab] (password, locale, timezone...).
export function startLab(settings = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ctdlab-browser-'));
  let config;
  if (Object.keys(settings).length) {
    config = path.join(dir, 'lab-test.ini');
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
    writeFileSync(config, `[lab]\n${lines.join('\n')}\n`);
  }
  try {
    ctdlab(dir, ['up'], { config });
  } catch (e) {
    const logs = APPLIANCES.map((a) => `--- ${a}.log\n${logTail(dir, a)}`).join('\n');
    ctdlab(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ctdlab up failed: ${e.stderr || e.message}\n${logs}`);
  }
  const consoles = {};
  for (const a of APPLIANCES) {
    const ready = JSON.parse(readFileSync(path.join(dir, 'run', `${a}.json`), 'utf8'));
    consoles[a] = ready.info.console;
  }
  return {
    dir, config, consoles,
    status: () => ctdlab(dir, ['status'], { config }),
    stop() {
      reportDeadDaemons(dir, config);
      ctdlab(dir, ['down'], { config });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
