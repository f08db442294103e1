import { ModelFormatError } from '../errors/index.js';

/** A JSON object as parsed, before validation. */
export type JsonObject = { readonly [key: string]: unknown };

/** Where a value came from, for error messages: the file and the JSON path of the field. */
export interface JsonContext {
  file?: string;
  path: string;
}

export function fail(ctx: JsonContext, message: string, value?: unknown): never {
  throw new ModelFormatError(message, { file: ctx.file, field: ctx.path, value });
}

export function child(ctx: JsonContext, key: string | number): JsonContext {
  return { file: ctx.file, path: typeof key === 'number' ? `${ctx.path}[${key}]` : `${ctx.path}.${key}` };
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown, ctx: JsonContext): JsonObject {
  if (!isObject(value)) fail(ctx, `expected an object, found ${describe(value)}`, value);
  return value;
}

export function asArray(value: unknown, ctx: JsonContext): readonly unknown[] {
  if (!Array.isArray(value)) fail(ctx, `expected an array, found ${describe(value)}`, value);
  return value;
}

export function asString(value: unknown, ctx: JsonContext): string {
  if (typeof value !== 'string') fail(ctx, `expected a string, found ${describe(value)}`, value);
  return value;
}

export function optString(obj: JsonObject, key: string, ctx: JsonContext): string | undefined {
  const v = obj[key];
  return v === undefined || v === null ? undefined : asString(v, child(ctx, key));
}

export function optBool(obj: JsonObject, key: string, ctx: JsonContext, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(child(ctx, key), `expected true or false, found ${describe(v)}`, v);
  return v;
}

export function asInt(value: unknown, ctx: JsonContext, min = 0, max = 0x7fffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(ctx, `expected an integer in ${min}..${max}, found ${describe(value)}`, value);
  }
  return value;
}

export function optInt(
  obj: JsonObject,
  key: string,
  ctx: JsonContext,
  fallback: number,
  min = 0,
  max = 0x7fffffff,
): number {
  const v = obj[key];
  return v === undefined || v === null ? fallback : asInt(v, child(ctx, key), min, max);
}

export function asNumber(value: unknown, ctx: JsonContext): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(ctx, `expected a number, found ${describe(value)}`, value);
  return value;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** The `type` field of a component object. */
export function componentType(obj: JsonObject, ctx: JsonContext): string {
  return asString(obj.type, child(ctx, 'type'));
}
