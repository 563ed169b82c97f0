#!/usr/bin/env node
// Writes the configuration reference from the descriptions in the config schema
// (src/config/*-schema.ts). Run after `npm run build`; `npm run docs:config` does both. A test
// fails when the committed file and the schema differ.
import { writeFileSync } from 'node:fs';
import { configReference } from '../dist/src/config/config-reference.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configReference());
console.log('wrote docs/configuration.md');
