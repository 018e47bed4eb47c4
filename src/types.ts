/** Public data types, shaped exactly like @amplitude/experiment-node-server's. */

export type UserPropertyValue = string | number | boolean | Array<string | number | boolean>;

export interface ExperimentUser {
  device_id?: string;
  user_id?: string;
  country?: string;
  city?: string;
  region?: string;
  dma?: string;
  language?: string;
  platform?: string;
  version?: string;
  os?: string;
  device_manufacturer?: string;
  device_brand?: string;
  device_model?: string;
  carrier?: string;
  library?: string;
  ip_address?: string;
  user_properties?: Record<string, UserPropertyValue>;
  groups?: Record<string, string[]>;
  group_properties?: Record<string, Record<string, Record<string, UserPropertyValue>>>;
  cohort_ids?: string[];
  group_cohort_ids?: Record<string, Record<string, string[]>>;
}

/**
 * One flag's result. Readonly because the local client returns frozen,
 * shared objects: a mutation fails at compile time instead of throwing at
 * run time (copy first: `{ ...variant }`). Readonly does not limit
 * assignment: a mutable object can still be passed where a Variant is taken.
 */
export interface Variant {
  readonly key?: string;
  readonly value?: string;
  /**
   * Arbitrary JSON from the flag config. Typed `unknown` (the official SDK
   * says `any`): narrow it, or cast it to your payload type.
   */
  readonly payload?: unknown;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Flag key to variant; readonly for the same reason as Variant. */
export type Variants = Readonly<Record<string, Variant>>;

/** A flag config as `GET /sdk/v2/flags` returns it (one element of the array). */
export interface EvaluationFlag {
  key: string;
  variants: Record<string, EvaluationVariant>;
  segments: EvaluationSegment[];
  dependencies?: string[];
  metadata?: Record<string, unknown>;
}

export interface EvaluationVariant {
  key?: string;
  value?: unknown;
  payload?: unknown;
  metadata?: Record<string, unknown>;
}

export interface EvaluationSegment {
  bucket?: EvaluationBucket;
  conditions?: EvaluationCondition[][];
  variant?: string;
  metadata?: Record<string, unknown>;
}

export interface EvaluationBucket {
  selector: string[];
  salt: string;
  allocations: EvaluationAllocation[];
}

export interface EvaluationAllocation {
  range: number[];
  distributions: EvaluationDistribution[];
}

export interface EvaluationDistribution {
  variant: string;
  range: number[];
}

export interface EvaluationCondition {
  selector: string[];
  op: string;
  values: string[];
}

/** The official SDK's FlagConfig type. */
export type FlagConfig = Record<string, unknown> | EvaluationFlag;
