import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One record of an import file, with the line it starts on (1-based, header = line 1 in CSV). */
export type FileRow =
  | { line: number; values: Record<string, unknown> }
  | { line: number; error: 'ROW_MALFORMED' };

export const CSV_COLUMNS = [
  'accountNumber',
  'firstName',
  'lastName',
  'email',
  'phone',
  'status',
  'language',
] as const;

/** Thrown when the file as a whole cannot be read (no header, missing columns). */
export class ImportFileError extends Error {}

/**
 * Reads `.csv` (RFC 4180: quoted fields may hold commas, quotes as "" and line breaks; header
 * `accountNumber,firstName,lastName,email,phone,status,language`, any order, case-insensitive)
 * or `.jsonl` (one JSON object per line, the same field names). Streams: the file is never
 * held in memory whole.
 */
export async function* readCardholderFile(path: string): AsyncGenerator<FileRow> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  if (/\.(jsonl|ndjson)$/i.test(path)) {
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      try {
        const v: unknown = JSON.parse(line);
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          yield { line: n, error: 'ROW_MALFORMED' };
        else yield { line: n, values: v as Record<string, unknown> };
      } catch {
        yield { line: n, error: 'ROW_MALFORMED' };
      }
    }
    return;
  }
  if (!/\.csv$/i.test(path)) throw new ImportFileError('the file must end in .csv or .jsonl');

  let header: string[] | undefined;
  let n = 0;
  let start = 0;
  let pending: string | undefined;
  for await (const raw of lines) {
    n++;
    const text = pending === undefined ? raw.replace(/^\uFEFF/, '') : `${pending}\n${raw}`;
    if (pending === undefined) start = n;
    const fields = parseCsvRecord(text);
    if (fields === 'open') {
      pending = text;
      continue;
    }
    pending = undefined;
    if (header === undefined) {
      header = fields === 'bad' ? [] : fields.map((f) => f.trim());
      const lower = header.map((h) => h.toLowerCase());
      const missing = CSV_COLUMNS.filter((c) => !lower.includes(c.toLowerCase()));
      if (missing.length > 0)
        throw new ImportFileError(`CSV header lacks column(s): ${missing.join(', ')}`);
      header = header.map((h) => CSV_COLUMNS.find((c) => c.toLowerCase() === h.toLowerCase()) ?? h);
      continue;
    }
    if (text.trim() === '') continue;
    if (fields === 'bad' || fields.length !== header.length) {
      yield { line: start, error: 'ROW_MALFORMED' };
      continue;
    }
    const values: Record<string, unknown> = {};
    for (const [i, h] of header.entries()) values[h] = fields[i];
    yield { line: start, values };
  }
  if (pending !== undefined) yield { line: start, error: 'ROW_MALFORMED' };
  if (header === undefined) throw new ImportFileError('the CSV file is empty');
}

/** Splits one CSV record; 'open' when a quoted field continues on the next line. */
export function parseCsvRecord(text: string): string[] | 'open' | 'bad' {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) return 'open';
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      out.push(value);
      if (i === text.length) return out;
      if (text[i] !== ',') return 'bad';
      i++;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      const value = text.slice(i, end);
      if (value.includes('"')) return 'bad';
      out.push(value);
      if (comma < 0) return out;
      i = comma + 1;
    }
  }
}
