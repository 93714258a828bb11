/** A duration for people: whole seconds as "5 s", anything else in milliseconds. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
