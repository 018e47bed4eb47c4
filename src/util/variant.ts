/**
 * Variant conversions, exactly as @amplitude/experiment-node-server does them
 * (its src/util/variant.ts), so results compare equal with the official SDK's.
 * The one place for them: the remote client, both engines and the deprecated
 * evaluate()/fetch() filters use these.
 */
import type { Variant, Variants } from '../types';

/**
 * The one rule for a variant's `value`, as the official SDK's
 * evaluationVariantToVariant: a string stays, null/undefined become
 * undefined, anything else becomes its JSON text (String() if it has none,
 * e.g. a BigInt from an in-process flag source).
 */
export function variantValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return undefined;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Copy every field, with `value` converted by variantValue. The `value` key
 * is always present.
 */
export function evaluationVariantToVariant(evaluationVariant: Record<string, unknown>): Variant {
  return { ...evaluationVariant, value: variantValue(evaluationVariant.value) };
}

/**
 * Convert a whole response object. Entries that are not objects are left
 * out, and a `__proto__` key is never assigned (it would replace the result's
 * prototype).
 */
export function evaluationVariantsToVariants(evaluationVariants: Record<string, unknown>): Variants {
  const variants: Record<string, Variant> = {};
  for (const key of Object.keys(evaluationVariants)) {
    const v = evaluationVariants[key];
    if (v === null || typeof v !== 'object' || key === '__proto__') continue;
    variants[key] = evaluationVariantToVariant(v as Record<string, unknown>);
  }
  return variants;
}

/**
 * Same result as evaluationVariantsToVariants, but converts the object in
 * place instead of copying it: for a freshly parsed response that nobody else
 * holds (the remote client's), this saves two allocations per flag. The
 * resulting objects have the same keys in the same order as the copying
 * conversion (an absent `value` is added last, a present one keeps its place).
 */
export function convertParsedVariants(parsed: Record<string, unknown>): Variants {
  for (const key of Object.keys(parsed)) {
    const v = parsed[key];
    if (v === null || typeof v !== 'object' || key === '__proto__') {
      delete parsed[key];
      continue;
    }
    const variant = v as Record<string, unknown>;
    if (typeof variant.value !== 'string') variant.value = variantValue(variant.value);
  }
  return parsed as Variants;
}

/**
 * The deprecated v1 filter: drops variants whose metadata.default is truthy.
 * (The official SDK's `deployed` check is always true, so deployed:false
 * variants are kept; so are they here.)
 */
export function filterDefaultVariants(variants: Variants): Variants {
  const results: Record<string, Variant> = {};
  for (const flagKey of Object.keys(variants)) {
    const variant = variants[flagKey];
    if (variant?.metadata?.default) continue;
    // A flag named __proto__ is kept as data, never as the result's prototype.
    if (flagKey === '__proto__')
      Object.defineProperty(results, flagKey, { value: variant, enumerable: true, writable: true, configurable: true });
    else results[flagKey] = variant;
  }
  return results;
}
