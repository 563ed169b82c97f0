#!/usr/bin/env node
// Writes the published JSON Schemas of the delivered events from their TypeBox definitions
// (src/events/ctp-event.ts, src/events/answer-event.ts). Run after `npm run build`;
// `npm run schemas` does both. A test fails when a committed file and its definition differ.
import { writeFileSync } from 'node:fs';
import { answerEventSchemaJson, eventSchemaJson } from '../dist/src/events/event-schema-json.js';

writeFileSync(new URL('../schemas/ctp-event.v1.json', import.meta.url), eventSchemaJson());
console.log('wrote schemas/ctp-event.v1.json');
writeFileSync(
  new URL('../schemas/ctp-cardholder-answer.v1.json', import.meta.url),
  answerEventSchemaJson(),
);
console.log('wrote schemas/ctp-cardholder-answer.v1.json');
