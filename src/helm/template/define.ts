import type { CallContext, FuncDef } from './exec.js';

/** A function taking exactly `f.length` arguments. */
export function fixed(f: (...args: any[]) => unknown): FuncDef {
  return { min: f.length, max: f.length, call: (args) => f(...args) };
}

/** A function taking at least `min` arguments. */
export function variadic(min: number, f: (...args: any[]) => unknown): FuncDef {
  return { min, max: Infinity, call: (args) => f(...args) };
}

/** A function taking between `min` and `max` arguments. */
export function ranged(min: number, max: number, f: (...args: any[]) => unknown): FuncDef {
  return { min, max, call: (args) => f(...args) };
}

/** A function that needs the templates (include, tpl). */
export function contextual(min: number, max: number, f: (ctx: CallContext, ...args: any[]) => unknown): FuncDef {
  return { min, max, call: (args, ctx) => f(ctx, ...args) };
}

export type FuncTable = Record<string, FuncDef>;
