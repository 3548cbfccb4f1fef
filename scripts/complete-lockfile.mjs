#!/usr/bin/env node
// Some registries this project is installed from lack the platform builds of native
// optional dependencies for other systems (e.g. @msgpackr-extract/*-darwin-arm64).
// npm then leaves them out of package-lock.json, and `npm ci` refuses that lock as
// "out of sync". This adds the missing optional entries, tagged with the os and cpu
// their name says, so npm skips them on every other platform without fetching them.
// Run it after `npm install` changes dependencies: `npm run lock:complete`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const osNames = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
];
const cpuNames = [
  'arm64',
  'x64',
  'arm',
  'ia32',
  'ppc64',
  's390x',
  'riscv64',
  'loong64',
  'mips64el',
];
let added = 0;

for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location}/node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[hoisted]) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((part) => osNames.includes(part));
    const cpu = parts.find((part) => cpuNames.includes(part));
    if (!os || !cpu) {
      console.error(`lock:complete: ${name} is missing but its name says no platform; left alone`);
      continue;
    }
    lock.packages[hoisted] = { version, optional: true, os: [os], cpu: [cpu] };
    if (entry.dev) lock.packages[hoisted].dev = true;
    added += 1;
  }
}

writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock:complete: added ${added} missing platform-specific optional entries`);
