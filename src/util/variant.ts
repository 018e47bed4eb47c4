/**
 * Variant conversions, exactly as @amplitude/experiment-node-server does them
 * (its src/util/variant.ts), so results compare equal with the official SDK's.
 */
import type { Variant, Variants } from '../types';

/**
 * Copy every field; a non-string `value` becomes its JSON text and
 * null/undefined become undefined. The `value` key is always present.
 */
export function evaluationVariantToVariant(evaluationVariant: Record<string, unknown>): Variant {
  let stringValue: string | undefined;
  const value = evaluationVariant.value;
  if (typeof value === 'string') stringValue = value;
  else if (value !== null && value !== undefined) stringValue = JSON.stringify(value);
  return { ...evaluationVariant, value: stringValue } as Variant;
}

/**
 * Convert a whole response object. Entries that are not objects are left
 * out, and a `__proto__` key is never assigned (it would replace the result's
 * prototype).
 */
export function evaluationVariantsToVariants(evaluationVariants: Record<string, unknown>): Variants {
  const variants: Variants = {};
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
    const value = variant.value;
    if (typeof value !== 'string') {
      variant.value = value === null || value === undefined ? undefined : JSON.stringify(value);
    }
  }
  return parsed as Variants;
}

/**
 * The deprecated v1 filter: drops variants whose metadata.default is truthy.
 * (The official SDK's `deployed` check is always true, so deployed:false
 * variants are kept; so are they here.)
 */
export function filterDefaultVariants(variants: Variants): Variants {
  const results: Variants = {};
  for (const flagKey in variants) {
    const variant = variants[flagKey];
    if (!variant?.metadata?.default) results[flagKey] = variant;
  }
  return results;
}
