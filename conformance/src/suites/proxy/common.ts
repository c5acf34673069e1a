/** Shared steps of the proxy suites. */
import { ControlClient } from '../../control';
import { CheckFailure } from '../../errors';
import type { CheckContext, UpstreamTarget } from '../../types';

/** The upstream target; the runner only calls checks needing 'upstream' when it is set. */
export function upstream(ctx: CheckContext): UpstreamTarget {
  const target = ctx.targets.upstream;
  if (!target) throw new Error('no upstream target');
  return target;
}

export function control(ctx: CheckContext): ControlClient {
  return new ControlClient(upstream(ctx));
}

/**
 * Runs `work` with the upstream's access-token TTL set to `seconds`, restoring the previous TTL
 * afterwards so later checks see the upstream as they found it.
 */
export async function withAccessTokenTtl<T>(
  ctx: CheckContext,
  seconds: number,
  work: () => Promise<T>,
): Promise<T> {
  const ctl = control(ctx);
  const state = await ctl.state();
  const previous = typeof state.accessTokenTtl === 'number' ? state.accessTokenTtl : 3600;
  await ctl.setTtl({ accessToken: seconds });
  try {
    return await work();
  } finally {
    await ctl.setTtl({ accessToken: previous });
  }
}

/** Fails with `message` (a CheckFailure) — for branches that are plainly non-conformant. */
export function fail(message: string): never {
  throw new CheckFailure(message);
}
