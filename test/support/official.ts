// The official evaluation path, exactly as @amplitude/experiment-node-server
// 1.13.6 runs it: user -> context, topologicalSort, EvaluationEngine, variant conversion.
import { EvaluationEngine, topologicalSort } from '@amplitude/experiment-core';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { convertUserToEvaluationContext } = require('@amplitude/experiment-node-server/dist/src/util/user');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { evaluationVariantsToVariants } = require('@amplitude/experiment-node-server/dist/src/util/variant');

const engine = new EvaluationEngine();

export function officialEvaluate(
  flags: ReadonlyArray<object>,
  user: Record<string, unknown> | undefined,
  flagKeys?: string[],
): Record<string, unknown> {
  const record: Parameters<typeof topologicalSort>[0] = {};
  for (const flag of flags) record[(flag as { key: string }).key] = flag as (typeof record)[string];
  const context = convertUserToEvaluationContext(user);
  const sorted = topologicalSort(record, flagKeys);
  return evaluationVariantsToVariants(engine.evaluate(context, sorted));
}
