/** Narrowing helpers for JSON received from targets: parse at the edge, name the path on error. */
import { CheckFailure } from '../errors';

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a response body as a JSON object, or fails naming what was fetched. */
export async function readJsonObject(response: Response, what: string): Promise<JsonObject> {
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CheckFailure(
      `${what}: body is not JSON (status ${response.status}): ${text.slice(0, 200)}`,
    );
  }
  if (!isObject(parsed)) throw new CheckFailure(`${what}: body is not a JSON object`);
  return parsed;
}

/** A string property of `object`, or undefined. */
export function stringProp(object: JsonObject, key: string): string | undefined {
  const value = object[key];
  return typeof value === 'string' ? value : undefined;
}

/** A string-array property of `object`, or undefined. */
export function stringArrayProp(object: JsonObject, key: string): string[] | undefined {
  const value = object[key];
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
    ? (value as string[])
    : undefined;
}
