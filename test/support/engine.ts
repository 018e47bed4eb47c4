/** Gates for tests of the native addon itself: skipped, with a reason, when global-setup.ts found no addon. */
import { beforeEach, describe, inject, it } from 'vitest';

export const nativeAddonLoaded: boolean = inject('nativeAddonLoaded') ?? false;

const NOTE = 'needs the native addon (see the engine line at the start of the run)';

/** Skip every test of the calling file when the addon is not built. */
export function skipWithoutNativeAddon(): void {
  beforeEach((ctx) => {
    if (!nativeAddonLoaded) ctx.skip(NOTE);
  });
}

export const describeNative: ReturnType<typeof describe.skipIf> = describe.skipIf(!nativeAddonLoaded);
export const itNative: ReturnType<typeof it.skipIf> = it.skipIf(!nativeAddonLoaded);
