/**
 * What a GPU test does when no adapter can be opened: skip with the reason, except where the run promises one.
 * `.ci/run` installs Mesa's lavapipe and sets LLAMA_TEST_REQUIRE_GPU=1, so in CI a missing adapter fails the run
 * instead of hiding every GPU test behind a skip.
 */
export const GPU_REQUIRED = process.env.LLAMA_TEST_REQUIRE_GPU === '1';

/** The skip reason for `error` (opening the GPU failed); throws instead when the run requires a GPU. */
export function gpuSkipReason(error: Error): string {
  if (GPU_REQUIRED) {
    throw new Error(`LLAMA_TEST_REQUIRE_GPU=1 but no GPU adapter could be opened: ${error.message}`, { cause: error });
  }
  return error.message;
}
