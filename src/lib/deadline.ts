/**
 * A promise that settles like `promise`, or rejects with DeadlineExceeded once `ms` have passed.
 *
 * The work behind `promise` is not cancelled (a Durable Object call cannot be): the caller simply stops
 * waiting for it, so a hung callee costs a caller `ms` and never the whole request's lifetime. Real time
 * (setTimeout), never the project's test clock: tests freeze that one, and deadlines must still pass.
 */
export class DeadlineExceeded extends Error {
  override readonly name = "DeadlineExceeded";
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
  }
}

export function withDeadline<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}
