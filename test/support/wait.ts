/**
 * Waits until `check` holds, for at most `ms`: for conditions another task or process makes true (a
 * server applying a disconnect, a transfer reaching some bytes). A bound on a wait, never a speed claim.
 */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
