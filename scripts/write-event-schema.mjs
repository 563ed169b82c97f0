#!/usr/bin/env node
// Writes the published JSON Schema of the delivered event from its TypeBox definition
// (src/events/ctp-event.ts). Run after `npm run build`; `npm run schemas` does both. A test
// fails when the committed file and the definition differ.
import { writeFileSync } from 'node:fs';
import { eventSchemaJson } from '../dist/src/events/event-schema-json.js';

writeFileSync(new URL('../schemas/ctp-event.v1.json', import.meta.url), eventSchemaJson());
console.log('wrote schemas/ctp-event.v1.json');
