import type { EvaluationVariant, Variant } from '../types';
import { evaluationVariantToVariant } from '../util/variant';

type JsonObject = Record<string, unknown>;

/**
 * The result the reference engine builds for a matched (flag, segment,
 * variant): `{...variant, metadata: {...flag.metadata, ...segment.metadata,
 * ...variant.metadata}}`, then converted like the official SDK's
 * evaluationVariantToVariant (non-string value -> JSON text; own `value`
 * property even when undefined).
 */
export function buildVariant(flag: JsonObject, segment: JsonObject, variant: EvaluationVariant): Variant {
  const metadata = {
    ...(flag.metadata as JsonObject | undefined),
    ...(segment.metadata as JsonObject | undefined),
    ...variant.metadata,
  };
  return evaluationVariantToVariant({ ...variant, metadata });
}

/** Freeze a JSON value and everything in it, so one cached result can be shared. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as JsonObject)[key]);
  }
  return value;
}
