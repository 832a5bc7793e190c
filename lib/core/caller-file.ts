/**
 * The file of the function that calls this, from its call site: a file URL (ES module) or a
 * path (CommonJS). For a module that must find a file beside it in both builds, since the
 * CommonJS build has no `import.meta.url` (parallel's worker script, the WebAssembly scanner).
 */
export function callerFile(): string {
  const { prepareStackTrace, stackTraceLimit } = Error;
  Error.stackTraceLimit = 2;
  Error.prepareStackTrace = (_error, calls) => calls;
  const calls = new Error().stack as unknown as NodeJS.CallSite[];
  Error.prepareStackTrace = prepareStackTrace;
  Error.stackTraceLimit = stackTraceLimit;
  return calls[1]!.getFileName()!;
}
